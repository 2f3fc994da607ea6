"""Names of aiohttp 3.14's ``__all__`` served by aioloom.client: ``FormData`` (lazily, from
the ``multipart`` extra), ``ClearCookiePredicate``, ``UploadTracker``, ``UploadAbortedError``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from http.cookies import Morsel

import pytest

import aioloom.client
from aioloom.client import ClearCookiePredicate, ClientError, CookieJar, UploadAbortedError


def test_formdata_is_served_from_the_multipart_extra() -> None:
    import aioloom.multipart

    assert aioloom.client.FormData is aioloom.multipart.FormData
    from aioloom.client import FormData

    assert FormData is aioloom.multipart.FormData


_WITHOUT_EXTRA = textwrap.dedent(
    """
    import sys
    sys.modules["aioloom.multipart"] = None  # the extra is not installed
    import aioloom.client  # imports fine without it
    try:
        from aioloom.client import FormData
    except ImportError as exc:
        print("ImportError:", exc)
    try:
        aioloom.client.FormData
    except ImportError as exc:
        print("ImportError:", exc)
    print("multipart loaded:", "aioloom.multipart._form" in sys.modules)
    """
)


def test_without_the_extra_formdata_names_the_pip_line() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", _WITHOUT_EXTRA],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = (
        'ImportError: FormData needs aioloom.multipart: pip install "aioloom-client[multipart]"'
    )
    assert result.stdout.splitlines() == [expected, expected, "multipart loaded: False"], (
        result.stdout + result.stderr
    )


def test_importing_the_client_does_not_load_multipart() -> None:
    code = "import sys, aioloom.client; print('aioloom.multipart' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchName"):
        aioloom.client.NoSuchName  # noqa: B018


async def test_clear_cookie_predicate_is_the_type_clear_takes() -> None:
    jar = CookieJar(unsafe=True)
    jar.update_cookies({"keep": "1", "drop": "2"})

    def drop(morsel: Morsel[str]) -> bool:
        return morsel.key == "drop"

    predicate: ClearCookiePredicate = drop
    jar.clear(predicate)
    assert [cookie.key for cookie in jar] == ["keep"]


def test_new_names_are_public() -> None:
    for name in ("ClearCookiePredicate", "UploadAbortedError", "UploadTracker"):
        assert name in aioloom.client.__all__
        assert getattr(aioloom.client, name) is not None
    assert issubclass(UploadAbortedError, ClientError)
