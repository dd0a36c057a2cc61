"""Validity checks shared by the scheduler's tests: the engine's own rule check, then the independent
validator (a separate implementation of the rules) where it is present."""

from __future__ import annotations

import pytest

from app.scheduling.engine import Instance, Schedule, check_schedule, count_breaks
from tests.scheduling.strategies import without_fairness

# The wall-clock limit for tests that assert a proof: the work is that of the time limit (runs count work, not
# seconds), and on an idle machine they end in seconds; on a shared, loaded one they may take longer to do it.
LOADED = 600.0


def assert_valid(instance: Instance, schedule: Schedule) -> None:
    """Every hard rule holds; fairness too whenever the schedule says it is met, and a schedule that
    says it is not met really is over the bound (it is only a draft)."""
    slot_of = schedule.slot_of
    assert check_schedule(instance if schedule.fairness_met else without_fairness(instance), slot_of) == []
    assert schedule.breaks.value == sum(count_breaks(instance, slot_of).values())
    if instance.fairness is not None and not schedule.fairness_met:
        assert schedule.spread > instance.fairness
    validator = pytest.importorskip(
        "tests.scheduling.validator",
        reason="the independent validator tests/scheduling/validator.py is not in this checkout",
    )
    assert validator.violations(instance, schedule) == []
