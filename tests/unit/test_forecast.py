"""The forecast rules on examples computed by hand."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.forecast import Hint, forecast
from services.profiles import PROFILES, profile_for

DEFAULT = PROFILES["default"]


def marks(*pairs: tuple[str, str]) -> list[tuple[str, Decimal]]:
    return [(value, Decimal(weight)) for value, weight in pairs]


def test_weighted_average_and_both_hints() -> None:
    # 5·1 + 4·2 + 3·1 + 5·1.5 = 23.5 over 5.5 = 4.2727… → 4.
    # Up: (23.5 + 5k) / (5.5 + k) ≥ 4.5 ⇔ k ≥ 2.5 → three 5s.
    # Down: (23.5 + 2k) / (5.5 + k) < 3.5 ⇔ k > 2.83 → three 2s.
    result = forecast(marks(("5", "1"), ("4", "2"), ("3", "1"), ("5", "1.5")), DEFAULT)
    assert result.average == Decimal("4.27")
    assert result.grade == "4"
    assert result.raise_hint == Hint(3, "5", "5")
    assert result.drop_hint == Hint(3, "2", "3")
    assert not result.too_few


def test_two_more_fives_give_a_five() -> None:
    # 5 + 4 + 4·2 = 17 over 4 = 4.25 → 4; (17 + 5k) / (4 + k) ≥ 4.5 ⇔ k ≥ 2.
    result = forecast(marks(("5", "1"), ("4", "1"), ("4", "2")), DEFAULT)
    assert (result.average, result.grade) == (Decimal("4.25"), "4")
    assert result.raise_hint == Hint(2, "5", "5")
    # (17 + 2k) / (4 + k) < 3.5 ⇔ k > 2 → three 2s.
    assert result.drop_hint == Hint(3, "2", "3")


def test_one_more_two_makes_it_a_three() -> None:
    # 4 + 4 + 3 + 4 = 15 over 4 = 3.75 → 4; with one 2: 17 / 5 = 3.4 → 3.
    result = forecast(marks(("4", "1"), ("4", "1"), ("3", "1"), ("4", "1")), DEFAULT)
    assert result.grade == "4"
    assert result.drop_hint == Hint(1, "2", "3")


def test_half_rounds_up_by_default_and_a_school_may_demand_more() -> None:
    half = marks(("4", "1"), ("3", "1"))  # 3.5
    assert forecast(half, DEFAULT).grade == "4"
    strict = profile_for("default", {"round_from": "0.6"})
    assert forecast(half, strict).grade == "3"
    # 3.6 is a 4 under both rules: 4·3 + 3·2 = 18 over 5.
    assert forecast(marks(("4", "3"), ("3", "2")), strict).grade == "4"


def test_special_marks_carry_no_number() -> None:
    # "осв" and "н/а" are left out of the average: 5 and 4 give 4.5 → 5.
    result = forecast(marks(("5", "1"), ("осв", "1"), ("н/а", "2"), ("4", "1")), DEFAULT)
    assert (result.average, result.grade, result.numeric_count) == (Decimal("4.50"), "5", 2)
    assert result.raise_hint is None
    assert result.too_few
    # Only "осв": exempt, unless the school's rules forbid special final grades (seed 004 §5.3).
    exempt = marks(("осв", "1"), ("осв", "1"))
    assert forecast(exempt, DEFAULT).grade == "осв"
    assert forecast(exempt, PROFILES["seed004"]).grade is None
    # Pass/fail: the latest decides, so a retake counts.
    assert forecast(marks(("незач", "1"), ("зач", "1")), DEFAULT).grade == "зач"
    assert forecast(marks(("зач", "1"), ("незач", "1")), DEFAULT).grade == "незач"
    assert forecast([], DEFAULT).grade is None


def test_ends_of_the_scale() -> None:
    fives = forecast(marks(("5", "1"), ("5", "2"), ("5", "1")), DEFAULT)
    assert (fives.grade, fives.raise_hint) == ("5", None)
    # One 2 on top of three 5s of total weight 4: 22 / 5 = 4.4 → 4.
    assert fives.drop_hint == Hint(1, "2", "4")
    # A final grade is never below 2, and no hint lowers a 2.
    ones = forecast(marks(("1", "1"), ("2", "1")), DEFAULT)
    assert (ones.average, ones.grade, ones.drop_hint) == (Decimal("1.50"), "2", None)
    # (3 + 5k) / (2 + k) ≥ 2.5 ⇔ k ≥ 0.67: a single 5 lifts it to a 3.
    assert ones.raise_hint == Hint(1, "5", "3")


def test_hints_beyond_reach_are_not_offered() -> None:
    # 2.00 with weight 40: (80 + 5k) / (40 + k) ≥ 2.5 ⇔ k ≥ 8.
    heavy = marks(*[("2", "2")] * 20)
    assert forecast(heavy, DEFAULT).raise_hint == Hint(8, "5", "3")
    # Weight 80 would need sixteen 5s: more than a period holds, so no hint.
    heavier = marks(*[("2", "2")] * 40)
    assert forecast(heavier, DEFAULT).raise_hint is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["1", "2", "3", "4", "5", "осв", "н/а", "зач"]),
            st.sampled_from(["1", "1.5", "2", "0.5"]),
        ),
        max_size=30,
    )
)
def test_hints_do_what_they_say(pairs: list[tuple[str, str]]) -> None:
    items = marks(*pairs)
    result = forecast(items, DEFAULT)
    for hint in (result.raise_hint, result.drop_hint):
        if hint is None:
            continue
        after = forecast(items + marks(*[(hint.value, "1")] * hint.count), DEFAULT)
        assert after.grade == hint.becomes != result.grade
        if hint.count > 1:
            before = forecast(items + marks(*[(hint.value, "1")] * (hint.count - 1)), DEFAULT)
            assert before.grade == result.grade
