from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.program import Program, ProgramError, load_program, pick_text

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "program.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "program.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_program_is_a_sensible_cafe() -> None:
    program = load_program(None)
    assert program.bonuses.signup == 20
    assert [t.threshold for t in program.tiers] == [0, 500, 1500]
    assert program.tiers[0].name["fa"] == "نقره‌ای"
    assert {r.id for r in program.rewards} >= {"coffee"}


def test_spec_example_keys_are_accepted(tmp_path: Path) -> None:
    program = load_program(
        write(
            tmp_path,
            """
currency = "SAR"
[earning]
points_per_unit = 1
max_purchase = 100000000
[bonuses]
signup = 20
birthday = 100
referrer = 100
referee = 50
survey = 10
[[tiers]]
name = { en = "Silver", ar = "فضي", fa = "نقره‌ای" }
threshold = 0
multiplier = 1.0
[[rewards]]
id = "coffee"
name = { en = "Free coffee", ar = "قهوة مجانية", fa = "قهوه رایگان" }
cost = 150
kind = "free_product"
""",
        )
    )
    assert program.currency == "SAR"
    assert program.tiers[0].multiplier == Decimal("1.0")
    assert program.rewards[0].cost == 150


def test_shipped_example_is_valid() -> None:
    assert isinstance(load_program(EXAMPLE), Program)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[earning]\npoints_per_unit = -1\n", "earning.points_per_unit"),
        ("[bonuses]\nsignup = 'ten'\n", "bonuses.signup"),
        ("[[tiers]]\nname = {en='A'}\nthreshold = 5\n", "tiers[0].threshold must be 0"),
        (
            "[[tiers]]\nname = {en='A'}\nthreshold = 0\n[[tiers]]\nname = {en='B'}\nthreshold = 0\n",
            "tiers[1].threshold must be greater",
        ),
        ("[[rewards]]\nid='x'\nname={xx='A'}\ncost=5\n", "rewards[0].name"),
        ("[[rewards]]\nid='x'\nname={en='A'}\ncost=5\nkind='teleport'\n", "rewards[0].kind"),
        ("colour = 'blue'\n", "colour"),
        ("currency = SAR\n", "not valid TOML"),
    ],
)
def test_invalid_programs_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProgramError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_program(write(tmp_path, text))


def test_pick_text_falls_back_to_english_then_any() -> None:
    assert pick_text({"en": "Gold", "fa": "طلایی"}, "fa") == "طلایی"
    assert pick_text({"en": "Gold"}, "ar") == "Gold"
    assert pick_text({"fa": "طلایی"}, "ar") == "طلایی"


def test_a_phone_in_groups_may_take_several_tokens() -> None:
    from bot.domain.members import member_token_counts

    assert member_token_counts(["+966", "50", "123", "4567", "100", "two", "lattes"], keep=1) == [5, 4, 3, 2, 1]
    assert member_token_counts(["W7K2QF", "100"], keep=1) == [1]
    assert member_token_counts(["123456789", "100", "2"], keep=1) == [1]  # a Telegram id is one token
    assert member_token_counts(["۰۹۱۲", "۱۲۳", "۴۵۶۷"], keep=0) == [3, 2, 1]
