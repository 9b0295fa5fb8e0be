"""The fault-injection point: off by default, kills exactly once at the Nth batch when asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from stream.worker import faults
from tests.paths import REPO_ROOT


class Kills:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def test_unset_or_blank_never_kills() -> None:
    for environ in ({}, {faults.KILL_BEFORE_COMMIT_ENV: " "}):
        hook = faults.from_environment(environ)
        assert hook.nth is None
        for _ in range(5):
            hook()
        assert hook.batches == 0


def test_kills_at_the_nth_batch_only() -> None:
    kills = Kills()
    hook = faults.KillBeforeCommit(3, kill=kills)
    hook()
    hook()
    assert kills.calls == 0
    hook()
    assert kills.calls == 1
    hook()
    assert kills.calls == 1 and hook.batches == 4


def test_reads_the_batch_number_from_the_environment() -> None:
    assert faults.from_environment({faults.KILL_BEFORE_COMMIT_ENV: "2"}).nth == 2


@pytest.mark.parametrize("raw", ["zero", "0", "-1", "1.5"])
def test_a_bad_value_is_refused_in_one_line(raw: str) -> None:
    with pytest.raises(ValueError, match=faults.KILL_BEFORE_COMMIT_ENV) as caught:
        faults.from_environment({faults.KILL_BEFORE_COMMIT_ENV: raw})
    assert "\n" not in str(caught.value)


def test_the_default_kill_is_a_real_sigkill() -> None:
    """Set at start-up, the hook read from the environment SIGKILLs the process itself."""
    code = "from stream.worker import faults; faults.before_commit(); print('survived')"
    environ = {**os.environ, faults.KILL_BEFORE_COMMIT_ENV: "1"}
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environ, cwd=REPO_ROOT)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "survived" not in done.stdout
