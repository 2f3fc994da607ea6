"""The client cookie jar's file format: JSON documents written and read back, never pickle.

The document has the shape aiohttp 3.14 writes::

    {"domain|path": {name: {"key", "value", "coded_value", attributes...,
                            "host_only", "expires_timestamp"}}}

Relative or textual attributes (``expires``, ``max-age``) are not saved: the absolute
deadline is, as ``expires_timestamp``. Unlike aiohttp 3.x there is no pickle, not even as a
fallback: a cookie file is data, and reading an untrusted one must never execute code.
:func:`read_cookie_file` validates the whole document and raises ``ValueError`` for
anything that is not such a document; what the jar then stores is its own decision
(``CookieJar.load`` applies the rules of ``update_cookies``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable
from http.cookies import Morsel
from pathlib import Path
from typing import TypeAlias

from ._cookie_morsels import MAX_EXPIRY, StoredCookie, is_safe, new_morsel, set_attribute

__all__ = ("LoadedCookie", "PathLike", "read_cookie_file", "write_cookie_file")

PathLike: TypeAlias = str | os.PathLike[str]
# (domain of the file key, Morsel, host-only flag, expiry timestamp or None)
LoadedCookie: TypeAlias = tuple[str, Morsel[str], bool, float | None]

# A stored domain from a cookie file: lower-case host name or IP literal characters only.
_FILE_DOMAIN_RE = re.compile(r"[0-9a-z._:%\-]*")
_FLAG_ATTRIBUTES = frozenset(("secure", "httponly", "partitioned"))
# Saved Morsel attributes; "expires" and "max-age" are relative or textual, the absolute
# deadline is saved as "expires_timestamp" instead.
_SAVED_ATTRIBUTES = ("path", "domain", "secure", "httponly", "samesite", "partitioned")
_SAVED_TEXT_ATTRIBUTES = ("comment", "version")


def write_cookie_file(file_path: PathLike, cookies: Iterable[StoredCookie]) -> None:
    """Write ``cookies`` to ``file_path`` as JSON (created with mode ``0o600``).

    Args:
        file_path: where to write; an existing file is overwritten and made ``0o600``.
        cookies: the jar's cookies, in the order they are to be written.
    """
    data: dict[str, dict[str, dict[str, object]]] = {}
    for cookie in cookies:
        key = f"{cookie.domain}|{cookie.path}"
        data.setdefault(key, {})[cookie.morsel.key] = _cookie_record(cookie)
    # Cookies are credentials: never readable by other users, whatever the umask, and
    # whatever mode a file written before had (``open`` keeps an existing file's mode).
    with open(file_path, "w", encoding="utf-8", opener=_owner_only) as stream:
        json.dump(data, stream, indent=2)


def _owner_only(name: str, flags: int) -> int:
    """Open ``name`` for ``open()`` with mode ``0o600``, an existing file included."""
    fd = os.open(name, flags, 0o600)
    if hasattr(os, "fchmod"):  # POSIX; elsewhere the mode bits mean little
        try:
            os.fchmod(fd, 0o600)
        except BaseException:
            os.close(fd)
            raise
    return fd


def read_cookie_file(file_path: PathLike) -> list[LoadedCookie]:
    """Read and validate a cookie file written by :func:`write_cookie_file` (or aiohttp).

    Args:
        file_path: the file to read.

    Returns:
        One ``(domain, morsel, host_only, expires)`` per cookie, in file order; a Morsel's
        ``path`` is always set (from the file key when the record has none).

    Raises:
        OSError: the file cannot be read.
        ValueError: the file is not UTF-8 JSON of that shape (e.g. a pickle, a list, a
            cookie without a value, an unsafe name or value).
    """
    text = Path(file_path).read_bytes()
    try:
        document = json.loads(text.decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"{os.fspath(file_path)!r} is not a JSON cookie file: {exc}") from None
    return _parse_document(document)


def _cookie_record(cookie: StoredCookie) -> dict[str, object]:
    morsel = cookie.morsel
    record: dict[str, object] = {
        "key": morsel.key,
        "value": morsel.value,
        "coded_value": morsel.coded_value,
    }
    for attribute in (*_SAVED_ATTRIBUTES, *_SAVED_TEXT_ATTRIBUTES):
        value = morsel.get(attribute)
        if value:
            record[attribute] = value if isinstance(value, bool) else str(value)
    if cookie.host_only:
        record["host_only"] = True
    if cookie.expires is not None:
        record["expires_timestamp"] = cookie.expires
    return record


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def _parse_document(document: object) -> list[LoadedCookie]:
    if not isinstance(document, dict):
        raise ValueError("a cookie file holds a JSON object of 'domain|path' keys")
    records = []
    for compound, cookies in document.items():
        domain, bar, path = compound.partition("|")
        if not bar or _FILE_DOMAIN_RE.fullmatch(domain) is None:
            raise ValueError(f"invalid cookie file key {compound!r}")
        if not isinstance(cookies, dict):
            raise ValueError(f"cookies of {compound!r} must be a JSON object")
        for name, record in cookies.items():
            morsel, host_only, expires = _parse_record(name, record, path)
            records.append((domain, morsel, host_only, expires))
    return records


def _parse_record(name: str, record: object, path: str) -> tuple[Morsel[str], bool, float | None]:
    if not isinstance(record, dict):
        raise ValueError(f"cookie {name!r} must be a JSON object")
    key, value, coded = record.get("key", name), record.get("value"), record.get("coded_value")
    if not (isinstance(key, str) and isinstance(value, str) and isinstance(coded, str)):
        raise ValueError(f"cookie {name!r} needs string 'key', 'value' and 'coded_value'")
    if key != name or not is_safe(key, coded):
        raise ValueError(f"cookie {name!r} has an unsafe or mismatched name or value")
    morsel = new_morsel(key, value, coded)
    for attribute in (*_SAVED_ATTRIBUTES, *_SAVED_TEXT_ATTRIBUTES):
        if attribute not in record:
            continue
        item = record[attribute]
        if not isinstance(item, str) and not (
            isinstance(item, bool) and attribute in _FLAG_ATTRIBUTES
        ):
            raise ValueError(f"cookie {name!r}: bad {attribute!r} value {item!r}")
        set_attribute(morsel, attribute, item)
    if not str(morsel.get("path") or "").startswith("/"):
        set_attribute(morsel, "path", path if path.startswith("/") else "/")
    host_only = record.get("host_only", False)
    expires = record.get("expires_timestamp")
    if not isinstance(host_only, bool):
        raise ValueError(f"cookie {name!r}: 'host_only' must be true or false")
    deadline = None if expires is None else _finite(expires)
    if expires is not None and deadline is None:
        raise ValueError(f"cookie {name!r}: 'expires_timestamp' must be a finite number")
    return morsel, host_only, None if deadline is None else min(deadline, MAX_EXPIRY)
