"""wait_until: the seconds a condition took, None when it never held (CI once failed a test that
treated an instant 0.0 as failure)."""
from harness.polling import wait_until


def test_a_condition_that_holds_at_once_took_zero_seconds_not_none():
    assert wait_until(lambda: True, 1) == 0.0


def test_a_condition_that_never_holds_gives_none_after_its_time():
    assert wait_until(lambda: False, 0.3, step=0.1) is None


def test_a_condition_that_holds_later_gives_when():
    calls = iter([False, False, True])
    took = wait_until(lambda: next(calls), 5, step=0.1)
    assert took is not None and 0.1 <= took < 1
