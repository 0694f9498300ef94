"""Prometheus metrics of one bot process (SPEC §9 `/metrics`).

Each `App` has its own registry (tests build many apps in one process); the
Telegram layer counts updates and Bot API calls into it, the HTTP layer
counts requests, and `/metrics` adds the outbox by status, read from the
database at scrape time (the outbox is shared by all replicas: any replica
reports the same totals).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

# `*_created` series only double the output; no dashboard here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Handler latencies: most updates take milliseconds; a chart or an export takes seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter(
            "wafa_updates_total",
            "Telegram updates handled, by kind and outcome (handled, unhandled, error).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "wafa_update_handler_seconds",
            "Time to handle one Telegram update, by kind.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.bot_api_calls = Counter(
            "wafa_bot_api_calls_total",
            "Bot API requests, by method and outcome (ok, 429, error).",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.messages_sent = Counter(
            "wafa_messages_sent_total",
            "Messages Telegram accepted (sendMessage, sendPhoto, sendDocument).",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "wafa_telegram_429_total",
            "HTTP 429 (retry_after) answers received from the Bot API.",
            registry=self.registry,
        )
        self.limited_updates = Counter(
            "wafa_updates_limited_total",
            "Updates ignored because their sender was over the per-user budget (the first gets 'slow down').",
            registry=self.registry,
        )
        self.outbox_rows = Gauge(
            "wafa_outbox_rows",
            "Outbox rows by status, at the time of the scrape.",
            ["status"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "wafa_http_requests_total",
            "HTTP requests served, by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "wafa_http_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def set_outbox(self, counts: dict[str, int]) -> None:
        for status in {*counts, *("pending", "sending", "sent", "failed", "blocked", "opted_out", "unknown")}:
            self.outbox_rows.labels(status=status).set(counts.get(status, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
