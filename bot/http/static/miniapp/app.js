/* Wafa's Mini App (SPEC §10). Plain JS, no build step.
 *
 * Every word and number comes from /app/api/ already in the member's
 * language, digits and calendar; the page only lays it out. Strings go in
 * with textContent, never as HTML, so nothing a member typed can become
 * markup. Telegram.WebApp (telegram-web-app.js) is used when present:
 * themeParams, BackButton, MainButton, showScanQrPopup, openTelegramLink;
 * without it the page still works (outside Telegram it says so).
 */
(function () {
  "use strict";
  var tg = (window.Telegram && window.Telegram.WebApp) || null;
  var hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  var initData = (tg && tg.initData) || hash.get("tgWebAppData") || "";
  var insideTelegram = !!(tg && tg.initData);
  var S = {};            // the UI string table, in the member's language
  var me = null;         // GET /app/api/me
  var current = "card";  // the tab shown
  var back = null;       // what BackButton does in a sub-view, or null
  var mainHandler = null;
  var awardKey = null;   // the idempotency key of the purchase being typed

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    var list = Array.prototype.slice.call(arguments, 2);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") node.textContent = attrs[k];
        else if (k === "onclick") node.addEventListener("click", attrs[k]);
        else if (k === "class") node.className = attrs[k];
        else if (k === "width") node.style.width = attrs[k];  // CSSOM: allowed by the page's CSP
        else node.setAttribute(k, attrs[k]);
      });
    }
    list.forEach(function (child) {
      if (child == null) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function api(path, options) {
    options = options || {};
    var headers = { "Authorization": "tma " + initData };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch("/app/api" + path, {
      method: options.method || "GET",
      headers: headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var error = (body && body.error) || {};
          throw { status: response.status, code: error.code || "http_error", message: error.message || S.failed };
        }
        return body;
      });
    });
  }

  function toast(text) {
    var box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  function failed(error) {
    toast((error && error.message) || S.failed || "Error");
  }

  // -- Telegram: theme, BackButton, MainButton ---------------------------------------
  function applyTheme() {
    if (!tg || !tg.themeParams) return;
    var root = document.documentElement.style;
    Object.keys(tg.themeParams).forEach(function (key) {
      root.setProperty("--tg-theme-" + key.replace(/_/g, "-"), tg.themeParams[key]);
    });
  }

  function setBack(handler) {
    back = handler;
    if (!tg || !tg.BackButton) return;
    if (handler || current !== "card") tg.BackButton.show(); else tg.BackButton.hide();
  }

  function onBack() {
    if (back) { var go = back; back = null; go(); } else { show("card"); }
  }

  function setMain(text, handler) {
    mainHandler = handler;
    if (!tg || !tg.MainButton) return;
    if (handler) { tg.MainButton.setText(text); tg.MainButton.enable && tg.MainButton.enable(); tg.MainButton.show(); }
    else tg.MainButton.hide();
  }

  function busyMain(busy) {
    if (tg && tg.MainButton) {
      if (busy) { tg.MainButton.showProgress && tg.MainButton.showProgress(); tg.MainButton.disable && tg.MainButton.disable(); }
      else { tg.MainButton.hideProgress && tg.MainButton.hideProgress(); tg.MainButton.enable && tg.MainButton.enable(); }
    }
  }

  // An in-page button doing what the MainButton does (hidden inside Telegram, which shows its own).
  function mainButton(text, handler) {
    setMain(text, handler);
    return el("button", { "class": "primary wide in-page-main", text: text, onclick: handler });
  }

  function applyUI(ui) {
    S = ui.strings || {};
    document.documentElement.lang = ui.lang;
    document.documentElement.dir = ui.dir;
  }

  // -- screens -------------------------------------------------------------------------
  function tabs() {
    var names = [];
    if (me.code) names.push("card", "rewards", "history", "invite");
    if (me.role === "owner" || me.role === "staff") names.push("cashier");
    if (me.role === "owner") names.push("stats");
    var nav = $("tabs");
    nav.textContent = "";
    names.forEach(function (name) {
      nav.appendChild(el("button", { id: "tab-" + name, text: S[name], onclick: function () { show(name); } }));
    });
    nav.hidden = names.length < 2;
    if (names.indexOf(current) < 0) current = names[0];
  }

  function render(node) {
    var screen = $("screen");
    screen.textContent = "";
    screen.appendChild(node);
  }

  function show(name) {
    current = name;
    back = null;
    setMain(null, null);
    Array.prototype.forEach.call($("tabs").children, function (b) {
      if (b.id === "tab-" + name) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
    });
    setBack(null);
    render(el("p", { "class": "muted", text: S.loading }));
    var screens = { card: cardScreen, rewards: rewardsScreen, history: historyScreen, invite: inviteScreen,
                    cashier: cashierScreen, stats: statsScreen };
    screens[name]();
  }

  function cardScreen() {
    api("/me").then(function (card) {
      me = card;
      var panel = el("section", { "class": "panel", id: "card" },
        el("p", { "class": "merchant", text: card.merchant }),
        el("p", { "class": "name", id: "first-name", text: card.first_name || "" }),
        el("p", { "class": "label", text: S.balance }),
        el("p", { "class": "balance", id: "balance", text: card.balance_text }),
        el("p", { "class": "label", text: S.tier }),
        el("p", { "class": "tier", id: "tier", text: card.tier }),
        el("div", { "class": "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
                    "aria-valuenow": String(Math.round(card.progress * 100)) },
          el("span", { width: Math.round(card.progress * 100) + "%" })),
        el("p", { "class": "muted", id: "progress", text: card.progress_text }),
        card.perks ? el("p", { text: card.perks }) : null,
        card.expiring ? el("p", { id: "expiring", text: card.expiring }) : null,
        card.campaign ? el("p", { id: "campaign", text: card.campaign }) : null);
      if (card.stamps) {
        var dots = "";
        for (var i = 0; i < card.stamps.every; i++) dots += i < card.stamps.on_card ? "●" : "○";
        panel.appendChild(el("p", { "class": "stamps", id: "stamps", "aria-hidden": "true", text: dots }));
        card.stamps.lines.forEach(function (line) { panel.appendChild(el("p", { "class": "muted", text: line })); });
      }
      var qr = el("section", { "class": "panel" },
        el("img", { "class": "qr", id: "qr", src: card.qr, alt: S.member_code }),
        el("p", { "class": "label", text: S.member_code }),
        el("p", { "class": "code", id: "code", text: card.code }),
        el("p", { "class": "muted", text: card.hint }));
      render(el("div", null, panel, qr));
    }).catch(failed);
  }

  function rewardsScreen() {
    api("/rewards").then(function (data) {
      var list = el("div", { id: "rewards" }, el("p", { "class": "label", id: "rewards-title", text: data.title }));
      if (data.empty) list.appendChild(el("p", { "class": "muted", text: data.empty }));
      data.rewards.forEach(function (reward) {
        var button = reward.affordable
          ? el("button", { "class": "primary", "data-reward": String(reward.id), text: S.redeem,
                           onclick: function () { confirmScreen(reward); } })
          : null;
        list.appendChild(el("section", { "class": "panel reward" },
          el("div", null,
            el("h3", { text: reward.name }),
            el("p", { "class": "muted", text: reward.cost_text + " · " + reward.status })),
          button));
      });
      data.vouchers.forEach(function (voucher) {
        list.appendChild(voucherPanel(voucher));
      });
      render(list);
    }).catch(failed);
  }

  function confirmScreen(reward) {
    var busy = false;
    function go() {
      if (busy) return;  // a double tap sends one request (and the token is one-time anyway)
      busy = true;
      busyMain(true);
      api("/rewards/" + reward.id + "/redeem", { method: "POST", body: { token: reward.token } })
        .then(function (done) {
          busyMain(false);
          setMain(null, null);
          setBack(function () { show("rewards"); });
          render(el("div", { id: "redeemed" }, el("p", { "class": "result ok", text: done.message }),
                    voucherPanel(done.voucher)));
        })
        .catch(function (error) { busy = false; busyMain(false); failed(error); });
    }
    setBack(function () { show("rewards"); });
    var view = el("section", { "class": "panel", id: "confirm" },
      el("h3", { text: reward.name }),
      reward.description ? el("p", { "class": "muted", text: reward.description }) : null,
      el("p", { text: reward.what }),
      el("p", { "class": "result", text: reward.confirm }),
      mainButton(S.confirm_redeem, go),
      el("button", { "class": "secondary wide", text: S.back, onclick: function () { show("rewards"); } }));
    render(view);
  }

  function voucherPanel(voucher) {
    return el("section", { "class": "panel voucher" },
      el("p", { "class": "label", text: S.voucher + " · " + voucher.reward }),
      el("img", { "class": "qr", src: voucher.qr, alt: S.voucher }),
      el("p", { "class": "code voucher-code", text: voucher.code }),
      el("p", { "class": "muted", text: voucher.valid_until }),
      el("p", { "class": "muted", text: voucher.hint }));
  }

  function historyScreen(query) {
    api("/history" + (query || "")).then(function (page) {
      var box = el("section", { "class": "panel", id: "history" },
        el("p", { "class": "label", text: S.balance + ": " + page.balance_text }));
      if (page.empty) box.appendChild(el("p", { "class": "muted", text: page.empty }));
      page.entries.concat(page.stamps).forEach(function (entry) {
        box.appendChild(el("div", { "class": "entry" },
          el("div", null, el("div", { text: entry.label }), el("div", { "class": "muted", text: entry.date })),
          el("div", { "class": "delta " + (entry.delta_text.charAt(0) === "+" ? "plus" : "minus"), text: entry.delta_text })));
      });
      var pager = el("div", { "class": "pager" },
        page.newer != null ? el("button", { "class": "secondary", id: "newer", text: S.newer,
          onclick: function () { historyScreen("?after=" + page.newer); } }) : el("span"),
        page.older != null ? el("button", { "class": "secondary", id: "older", text: S.older,
          onclick: function () { historyScreen("?before=" + page.older); } }) : el("span"));
      render(el("div", null, box, pager));
    }).catch(failed);
  }

  function inviteScreen() {
    api("/invite").then(function (data) {
      var lines = el("div", { "class": "lines" });
      data.text.forEach(function (line) { lines.appendChild(el("p", { text: line })); });
      function share(event) {
        if (tg && tg.openTelegramLink) { event.preventDefault(); tg.openTelegramLink(data.share_url); }
      }
      render(el("section", { "class": "panel", id: "invite" }, lines,
        el("p", { "class": "link", id: "invite-link", text: data.link }),
        el("a", { "class": "primary wide", id: "share", href: data.share_url, target: "_blank", rel: "noopener",
                  text: S.share, onclick: share })));
    }).catch(failed);
  }

  function newKey() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function scan(input, then) {
    if (!tg || !tg.showScanQrPopup || (tg.isVersionAtLeast && !tg.isVersionAtLeast("6.4"))) {
      toast(S.no_scanner);
      input.focus();
      return;
    }
    tg.showScanQrPopup({ text: S.scan_member }, function (text) {
      input.value = text;
      if (then) then();
      return true;  // close the popup
    });
  }

  function cashierScreen() {
    awardKey = awardKey || newKey();
    var member = el("input", { id: "member", autocomplete: "off", dir: "auto" });
    var amount = el("input", { id: "amount", inputmode: "decimal", autocomplete: "off", dir: "auto" });
    var result = el("p", { "class": "result", id: "award-result" });
    var busy = false;
    member.addEventListener("input", function () { awardKey = newKey(); });
    amount.addEventListener("input", function () { awardKey = newKey(); });
    function award() {
      if (busy || !member.value.trim() || !amount.value.trim()) return;
      busy = true;
      busyMain(true);
      api("/award", { method: "POST", body: { member: member.value, amount: amount.value, key: awardKey } })
        .then(function (done) {
          result.className = "result ok";
          result.textContent = done.message;
          member.value = "";
          amount.value = "";
          awardKey = newKey();
        })
        .catch(function (error) { result.className = "result bad"; result.textContent = error.message; })
        .then(function () { busy = false; busyMain(false); });
    }
    var voucher = el("input", { id: "voucher", autocomplete: "off", dir: "ltr" });
    var used = el("p", { "class": "result", id: "voucher-result" });
    function redeem() {
      if (!voucher.value.trim()) return;
      api("/vouchers/" + encodeURIComponent(voucher.value.trim()) + "/redeem", { method: "POST", body: {} })
        .then(function (done) { used.className = "result ok"; used.textContent = done.message; voucher.value = ""; })
        .catch(function (error) { used.className = "result bad"; used.textContent = error.message; });
    }
    render(el("div", { id: "cashier" },
      el("section", { "class": "panel" },
        el("button", { "class": "primary wide", id: "scan-member", text: S.scan_member,
                       onclick: function () { scan(member, function () { amount.focus(); }); } }),
        el("label", { "for": "member", text: S.member_field }), member,
        el("label", { "for": "amount", text: S.amount_field }), amount,
        mainButton(S.award, award), result),
      el("section", { "class": "panel" },
        el("label", { "for": "voucher", text: S.voucher_field }),
        el("div", { "class": "row" }, voucher,
          el("button", { "class": "secondary", id: "scan-voucher", text: S.scan_voucher,
                         onclick: function () { scan(voucher, redeem); } })),
        el("button", { "class": "primary wide", id: "redeem-voucher", text: S.redeem_voucher, onclick: redeem }),
        used)));
  }

  function statsScreen() {
    api("/stats").then(function (data) {
      var lines = el("div", { "class": "lines", id: "stats" });
      data.lines.forEach(function (line) { lines.appendChild(el("p", { text: line })); });
      render(el("section", { "class": "panel" }, lines, el("img", { "class": "chart", src: data.chart, alt: S.stats })));
    }).catch(failed);
  }

  // -- start -----------------------------------------------------------------------------
  function outside(language) {
    api("/ui?lang=" + encodeURIComponent(language || "")).then(function (ui) {
      applyUI(ui);
      render(el("section", { "class": "panel", id: "outside" }, el("p", { text: S.outside })));
    }).catch(function () { render(el("p", { text: "Open this page from the bot in Telegram." })); });
  }

  function start() {
    if (tg) {
      applyTheme();
      tg.onEvent && tg.onEvent("themeChanged", applyTheme);
      tg.BackButton && tg.BackButton.onClick(onBack);
      tg.MainButton && tg.MainButton.onClick(function () { if (mainHandler) mainHandler(); });
      if (tg.MainButton) document.body.classList.add("tg-main");
      tg.ready && tg.ready();
      tg.expand && tg.expand();
    }
    var language = (tg && tg.initDataUnsafe && tg.initDataUnsafe.user && tg.initDataUnsafe.user.language_code)
      || navigator.language;
    if (!initData) { outside(language); return; }
    api("/me").then(function (card) {
      me = card;
      applyUI(card);
      if (!insideTelegram) {
        $("banner").textContent = S.demo;
        $("banner").hidden = false;
      }
      tabs();
      show(current);
    }).catch(function (error) {
      if (error.status === 401) { outside(language); return; }
      // Refused (not a member yet): the server's sentence is in the reader's language; lay it out in it.
      function refused() { render(el("section", { "class": "panel", id: "refused" }, el("p", { text: error.message }))); }
      api("/ui?lang=" + encodeURIComponent(language || "")).then(applyUI).then(refused, refused);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
