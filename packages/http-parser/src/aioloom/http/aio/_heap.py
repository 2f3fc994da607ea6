"""Keep the C heap from shrinking and regrowing under body traffic: :func:`keep_heap_warm`.

Why this exists (measured on the ``web`` benchmark's 64 KiB ``POST /echo``, issue #4): a
server holds one body per busy connection from the moment it is read until its handler
runs, so the bodies of one event-loop iteration (64 connections: about 4 MiB) are
allocated together and freed together. With glibc's default ``malloc`` every such wave
grows the heap with ``brk`` and, once freed, the heap's free top passes the *trim
threshold* (128 KiB, or twice the largest ``mmap``-ed block freed so far) and is given
back to the kernel; the next wave takes the pages again, each with a page fault. That cost
is invisible to instruction counts and to the request's Python code: about 13 page faults
and 30 µs of kernel time per request, a quarter of the whole request.

glibc adjusts its thresholds upward when a block it served with ``mmap`` is freed (the
"dynamic mmap threshold" of ``mallopt(3)``: the mmap threshold becomes the block's size and
the trim threshold twice that). Allocating and freeing one block of :data:`WARM_HEAP_BYTES`
once per process therefore lets the heap keep up to twice that much free memory instead of
returning it after every wave, and serves blocks below that size from the heap rather than
from fresh mappings. The block is ``calloc``-ed (``bytes(n)``) and never touched, so it
costs one ``mmap``/``munmap`` pair and no page faults.

Settings chosen by the user win: glibc turns the dynamic adjustment off when
``M_MMAP_THRESHOLD``/``M_TRIM_THRESHOLD`` are set (``mallopt`` or the ``MALLOC_*_``
environment variables), and then this function changes nothing. Other C libraries (musl,
macOS, Windows) are left alone.
"""

from __future__ import annotations

import os
from typing import Final

__all__ = ("WARM_HEAP_BYTES", "keep_heap_warm")

# The largest heap swing kept (the trim threshold becomes twice this): a wave of 64
# connections' 64 KiB bodies. Below glibc's 32 MiB cap on the dynamic threshold.
WARM_HEAP_BYTES: Final = 4 * 2**20

_warmed = False


def _is_glibc() -> bool:
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):  # not POSIX, or no such name here
        return False
    return version is not None and version.startswith("glibc")


def keep_heap_warm() -> bool:
    """Raise glibc's dynamic malloc thresholds once per process (see the module doc).

    Returns:
        True when this call did it; False when it was done before or the C library is
        not glibc.
    """
    global _warmed
    if _warmed:
        return False
    _warmed = True
    if not _is_glibc():
        return False
    # calloc: mmap-ed while glibc's mmap threshold is below the size; pages never touched
    block = bytes(WARM_HEAP_BYTES)
    del block  # munmap: glibc raises its mmap and trim thresholds to this size
    return True
