"""HTTP Basic authentication (RFC 7617): aiohttp's ``BasicAuth`` and ``encode_basic_auth``."""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple

from yarl import URL

__all__ = ("BasicAuth", "encode_basic_auth")


def encode_basic_auth(login: str, password: str = "", encoding: str = "utf-8") -> str:
    """Return an ``Authorization`` (or ``Proxy-Authorization``) value for the Basic scheme.

    aiohttp 3.14's replacement for ``BasicAuth(...).encode()``: ``"Basic "`` followed by the
    base64 of ``login:password`` (RFC 7617 §2). The default charset is UTF-8, the one RFC
    7617 §2.1 lets a server ask for with ``charset="UTF-8"``; ``BasicAuth`` keeps latin-1.

    Args:
        login: the user-id; RFC 7617 §2 forbids a colon in it. May be empty.
        password: the password; may be empty and may contain colons.
        encoding: the charset that turns ``login:password`` into octets.

    Returns:
        The field value, e.g. ``"Basic dXNlcjpwYXNz"``.

    Raises:
        ValueError: ``login`` contains ``":"``, or ``login`` or ``password`` is None.
        UnicodeEncodeError: the credentials cannot be written in ``encoding``.
        LookupError: ``encoding`` is not a known codec.
    """
    if login is None or password is None:
        # aiohttp would send the text "None"; a missing credential is a bug in the caller.
        raise ValueError("None is not allowed as login or password value")
    if ":" in login:
        # RFC 7617 §2: a user-id containing a colon character is invalid.
        raise ValueError('A ":" is not allowed in login (RFC 7617#section-2)')
    creds = f"{login}:{password}".encode(encoding)
    # base64 output is ASCII whatever the credentials' charset (RFC 4648 §4).
    return "Basic " + base64.b64encode(creds).decode("ascii")


class _Credentials(NamedTuple):
    login: str
    password: str
    encoding: str


class BasicAuth(_Credentials):
    """Credentials for the ``Basic`` scheme, as a ``(login, password, encoding)`` tuple.

    Args:
        login: the user-id; RFC 7617 §2 forbids a colon in it.
        password: the password (may be empty, may contain colons).
        encoding: the charset used to turn ``login:password`` into octets.

    Raises:
        ValueError: ``login`` or ``password`` is ``None``, or ``login`` contains ``":"``.
    """

    __slots__ = ()

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> BasicAuth:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            # RFC 7617 §2: a user-id containing a colon character is invalid.
            raise ValueError('A ":" is not allowed in login (RFC 1945#section-11.1)')
        return super().__new__(cls, login, password, encoding)

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> BasicAuth:
        """Read credentials from an ``Authorization`` field value.

        Args:
            auth_header: the value, e.g. ``"Basic dXNlcjpwYXNz"``.
            encoding: the charset the client used for ``login:password``.

        Returns:
            The decoded credentials.

        Raises:
            ValueError: the scheme is not ``Basic`` (compared case-insensitively,
                RFC 9110 §11.1), the token is not valid base64, does not decode in
                ``encoding``, or holds no ``":"``.
        """
        # RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
        auth_type, sep, encoded = auth_header.partition(" ")
        if not sep:
            raise ValueError("Could not parse authorization header.")
        if auth_type.lower() != "basic":
            raise ValueError(f"Unknown authorization method {auth_type}")
        try:
            raw = base64.b64decode(encoded.lstrip(" ").encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise ValueError("Invalid base64 encoding.") from None
        try:
            decoded = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ValueError(f"Credentials are not valid {encoding}.") from None
        # RFC 7617 §2: user-pass = user-id ":" password; both may be empty.
        username, colon, password = decoded.partition(":")
        if not colon:
            raise ValueError("Invalid credentials.")
        return cls(username, password, encoding=encoding)

    @classmethod
    def from_url(cls, url: URL, *, encoding: str = "latin1") -> BasicAuth | None:
        """Take the credentials out of a URL's userinfo.

        Args:
            url: a :class:`yarl.URL`, e.g. ``URL("http://user:pass@host/")``.
            encoding: the charset to use when the credentials are encoded.

        Returns:
            The credentials, or ``None`` when the URL has no userinfo.

        Raises:
            TypeError: ``url`` is not a :class:`yarl.URL`.
        """
        if not isinstance(url, URL):
            raise TypeError("url should be yarl.URL instance")
        if url.raw_user is None and url.raw_password is None:
            return None
        return cls(url.user or "", url.password or "", encoding=encoding)

    def encode(self) -> str:
        """Return the ``Authorization`` field value: ``"Basic " + base64(login:password)``.

        Raises:
            UnicodeEncodeError: the credentials cannot be written in ``encoding``.
        """
        return encode_basic_auth(self.login, self.password, self.encoding)
