"""pytest set-up for the harness's own tests: the bench modules import each other by name.

``run.py`` and ``_worker.py`` run as scripts, so their folder is first on ``sys.path``
and ``import harness`` works; under pytest (``--import-mode=importlib``) it is not, so
this puts it there.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH_DIR = str(Path(__file__).resolve().parent)
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)
