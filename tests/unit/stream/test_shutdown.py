"""The bounded drain on SIGTERM/SIGINT: finish the batch in hand, but not for longer than the grace period."""

from __future__ import annotations

import os
import signal
import threading

from stream.commands.shutdown import BoundedDrain, stop_on_signals


class Aborts:
    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.called = threading.Event()

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)
        self.called.set()


def test_the_first_request_stops_and_the_grace_period_then_aborts() -> None:
    aborts = Aborts()
    drain = BoundedDrain(0.2, abort=aborts)
    drain.request("SIGTERM")
    assert drain.stop.is_set() and not aborts.called.is_set()
    assert aborts.called.wait(1.0), "no abort once the grace period is over"
    assert "shutdown_grace_s" in aborts.reasons[0]


def test_a_second_request_aborts_at_once() -> None:
    aborts = Aborts()
    drain = BoundedDrain(60, abort=aborts)
    drain.request("SIGTERM")
    drain.request("SIGINT")
    assert aborts.reasons == ["SIGINT received again"]
    drain.cancel()


def test_a_drain_that_finishes_in_time_does_not_abort() -> None:
    aborts = Aborts()
    drain = BoundedDrain(0.2, abort=aborts)
    drain.request("SIGTERM")
    drain.cancel()
    assert not aborts.called.wait(0.4)


def test_sigterm_sets_the_stop_event_and_the_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals(60) as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(1.0)
    assert signal.getsignal(signal.SIGTERM) is before
