"""Waiting for events in tests: `wait_until` checks a condition until it holds or a deadline
passes, so a test goes on as soon as the event happened and fails naming what did not happen.
Tests wait with it (or on a notification), never by sleeping a fixed time."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")

# How often a condition is checked: small, so that a test waits little past the event.
POLL_INTERVAL_S = 0.01


def wait_until(condition: Callable[[], T], timeout: float, what: str,
               details: Callable[[], object] | None = None,
               interval: float = POLL_INTERVAL_S) -> T:
    """Calls `condition` until it returns a true value, and returns that value. Raises
    AssertionError naming `what` (and `details()`, when given) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"; {details()}" if details is not None else ""
            raise AssertionError(f"{what}: not within {timeout}s{extra}")
        time.sleep(interval)
