"""A change of the forecast that more than HINT_LIMIT marks would take is said, not dropped."""

from __future__ import annotations

from decimal import Decimal

from services.forecast import HINT_LIMIT, forecast
from services.profiles import PROFILES

DEFAULT = PROFILES["default"]


def test_far_changes_are_flagged_and_near_ones_are_not() -> None:
    # 2.00 over weight 80: (160 + 5k) / (80 + k) ≥ 2.5 ⇔ k ≥ 16, more than ten.
    far = forecast([("2", Decimal(2))] * 40, DEFAULT)
    assert far.raise_hint is None and far.raise_beyond
    assert not far.drop_beyond  # a 2 cannot drop further
    # 5.00 over weight 80: (400 + 2k) / (80 + k) < 4.5 ⇔ k > 16.
    top = forecast([("5", Decimal(2))] * 40, DEFAULT)
    assert (top.drop_hint, top.drop_beyond, top.raise_beyond) == (None, True, False)
    # Within reach: a hint, not a flag.
    near = forecast([("4", Decimal(1)), ("3", Decimal(1))], DEFAULT)
    assert near.raise_hint is not None and near.raise_hint.count <= HINT_LIMIT
    assert not near.raise_beyond and not near.drop_beyond
