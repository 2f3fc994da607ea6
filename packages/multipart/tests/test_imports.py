"""Every module imports on its own, warning-free, in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "aioloom.multipart",
    "aioloom.multipart._exceptions",
    "aioloom.multipart._parser",
    "aioloom.multipart._transfer",
    "aioloom.multipart._writer",
    "aioloom.multipart._form",
    "aioloom.multipart.aio",
    "aioloom.multipart.aio._feed",
    "aioloom.multipart.aio._reader",
]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_body_part_reader_payload_is_registered_by_the_writer_module() -> None:
    code = (
        "from aioloom.http.aio._payload import PAYLOAD_REGISTRY\n"
        "import aioloom.multipart._writer as w\n"
        "assert any(f is w.BodyPartReaderPayload for f, _ in PAYLOAD_REGISTRY._first)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
