"""keep_heap_warm: waves of 64 KiB bodies stop faulting the heap in again (issue #4)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aioloom.http.aio import _heap

# A fresh interpreter allocates waves of 48 body-sized blocks (3 MiB, as a server holds
# the bodies of one loop iteration), frees each wave, and prints the minor page faults of
# the last 20 waves. The blocks are filled, so every page the heap gets back is touched.
_WAVES = """
import resource, sys
from aioloom.http.aio._heap import keep_heap_warm  # imported in both runs: same heap
if sys.argv[1] == "warm":
    assert keep_heap_warm()
def wave():
    blocks = [b"x" * 65536 for _ in range(48)]
    del blocks
wave(); wave()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    wave()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

_GLIBC = _heap._is_glibc()


def _faults(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", _WAVES, mode], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout)


@pytest.mark.skipif(not _GLIBC, reason="the thresholds are glibc's")
def test_waves_of_bodies_reuse_the_heap() -> None:
    # Without it each freed wave is trimmed and the next one faults its pages back in: up to
    # 20 waves x 48 blocks x 16 pages. Seen: 14,080 here, 7,040 on the CI machine (its
    # kernel maps the heap in larger steps), so the floor is set well below both.
    cold = _faults("cold")
    warm = _faults("warm")
    assert cold > 2_000
    assert warm < 200
    assert warm * 10 < cold


def test_runs_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_heap, "_warmed", False)
    assert _heap.keep_heap_warm() is _GLIBC
    assert _heap.keep_heap_warm() is False


def test_other_c_libraries_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_heap, "_warmed", False)
    monkeypatch.setattr(_heap, "_is_glibc", lambda: False)
    assert _heap.keep_heap_warm() is False
