from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "aioloom.websocket._close",
    "aioloom.websocket._deflate",
    "aioloom.websocket._frames",
    "aioloom.websocket._handshake",
    "aioloom.websocket._mask",
    "aioloom.websocket._messages",
    "aioloom.websocket._models",
    "aioloom.websocket._protocol",
    "aioloom.websocket._utf8",
]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone_without_asyncio(module: str) -> None:
    # The sans-I/O codec never loads the event loop machinery (design §3).
    code = f"import sys, {module}; assert 'asyncio' not in sys.modules, 'asyncio imported'"
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)
