"""`wafa demo` driven by a script: the issue's "done when" for referrals, surveys and /stats."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """\
:as en
/start
/invite
:as friend
:open
:as owner
/award @reza_demo 120
/award @reza_demo 30
:as friend
/feedback
4
The coffee was cold
:as owner
/stats
:as en
/balance
:quit
"""


def test_demo_invite_join_purchase_feedback_alert_and_stats(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--fresh", "--database", str(tmp_path / "demo.db")],
        input=SCRIPT, capture_output=True, text=True, cwd=tmp_path, timeout=180,
        env={**{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ADMIN_IDS", "BOT_TOKEN"}},
             "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "(opening https://t.me/wafa_demo_bot?start=ref-" in out
    assert "🤝 با دعوت Emma عضو شدید" in out  # Reza joined through Emma's link
    assert out.count("made their first purchase: you earned 100 points") == 1  # Emma, once
    assert out.count("۵۰ امتیاز به خاطر عضویت با دعوت Emma") == 1  # Reza, once
    assert "⭐ Balance: 120 points" in out  # Emma: 20 signup + 100 referral, not more
    assert "(to Omar) ⚠️ Unhappy customer: رضا" in out and "“The coffee was cold”" in out
    assert "NPS: \u2068−100\u2069 · answers: 1" in out
    stats_part = out[out.index("› /stats"):out.index("› :as en", out.index("› /stats"))]
    assert "[photo saved to" in stats_part and "wafa-stats.png" in stats_part  # the chart, in order
    chart = next((tmp_path / "wafa-demo-files").glob("*-wafa-stats.png"))
    assert chart.read_bytes().startswith(b"\x89PNG")
