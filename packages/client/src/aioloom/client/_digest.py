"""HTTP Digest access authentication (RFC 7616) as aiohttp's ``DigestAuthMiddleware``.

The protocol parts are plain functions, testable without I/O:

* :func:`parse_challenges` reads a ``WWW-Authenticate`` field value into
  :class:`AuthChallenge` objects (RFC 9110 §11.6.1: several challenges, auth-params with
  tokens or quoted-strings, token68) and raises ``ValueError`` on malformed input.
* :meth:`DigestChallenge.from_params` validates one Digest challenge (RFC 7616 §3.3) and
  :func:`select_digest_challenge` picks the strongest usable one among several (§3.7).
* :func:`digest_response` computes the ``response`` value (RFC 7616 §3.4.1-3.4.3) and
  :func:`build_authorization` the whole ``Authorization`` field value (§3.4, §3.4.4).

:class:`DigestAuthMiddleware` is the client middleware (``ClientSession(middlewares=...)``):
on a ``401`` carrying a usable Digest challenge it retries the request once with
credentials, and (``preemptive=True``) authenticates later requests in the same protection
space (§3.6) up front, counting ``nc`` per nonce. A challenge it cannot use (missing realm
or nonce, unknown algorithm or qop, a syntax error such as an unterminated quoted-string)
never causes a retry: the ``401`` response is returned as it came. aiohttp raises
``ClientError`` for some of these cases instead.

Algorithms: MD5, SHA-256 and SHA-512-256 (RFC 7616 §6.1), each with its ``-sess`` variant,
plus the spellings aiohttp also accepts (SHA, SHA256, SHA-512, SHA512 and their ``-sess``
forms). qop: ``auth`` and ``auth-int`` (preferred when offered, as in aiohttp), or none
(RFC 2069 compatibility). ``userhash`` is not used (the user name is always sent).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar
from urllib.parse import quote

from multidict import MultiMapping, MutableMultiMapping
from yarl import URL

from aioloom.http import hdrs
from aioloom.http.aio import Payload

__all__ = (
    "AuthChallenge",
    "DigestAuthMiddleware",
    "DigestChallenge",
    "build_authorization",
    "digest_response",
    "parse_challenges",
    "select_digest_challenge",
)

client_logger = logging.getLogger("aioloom.client")

# RFC 9110 §5.6.2 token, §11.2 auth-param, §11.6.1 token68, §5.6.4 quoted-string.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"((?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*)"'
_END = r"[ \t]*(?=,|\Z)"
_SEPARATORS_RE = re.compile(r"[ \t,]*")
_PARAM_RE = re.compile(rf"({_TOKEN})[ \t]*=[ \t]*(?:({_TOKEN})|{_QUOTED}){_END}")
_SCHEME_RE = re.compile(rf"({_TOKEN})(?:[ \t]+|(?=,)|\Z)")
_TOKEN68_RE = re.compile(rf"([A-Za-z0-9\-._~+/]+=*){_END}")
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
_QUOTE_RE = re.compile(r'(["\\])')
# A user name that can be sent as a quoted-string; anything else goes in username*
# (RFC 7616 §3.4.4 with RFC 8187 encoding).
_PLAIN_USERNAME_RE = re.compile(r"[\x20-\x7e]*")

_QOPS = ("auth-int", "auth")  # in order of preference (aiohttp prefers auth-int)


def _available(name: str) -> bool:
    try:
        hashlib.new(name)
    except ValueError:  # not built into this Python/OpenSSL (e.g. sha512_256)
        return False
    return True


# Upper-cased algorithm name -> (hashlib name, strength rank for choosing, session variant).
_ALGORITHMS: dict[str, tuple[str, int, bool]] = {
    spelling + suffix: (hash_name, rank, bool(suffix))
    for spellings, hash_name, rank in (
        (("MD5",), "md5", 0),
        (("SHA",), "sha1", 1),
        (("SHA-256", "SHA256"), "sha256", 2),
        (("SHA-512", "SHA512"), "sha512", 3),
        (("SHA-512-256",), "sha512_256", 4),
    )
    if _available(hash_name)
    for spelling in spellings
    for suffix in ("", "-SESS")
}


@dataclass(frozen=True, slots=True)
class AuthChallenge:
    """One challenge of a ``WWW-Authenticate`` field (RFC 9110 §11.1).

    Attributes:
        scheme: the auth-scheme, lower-cased (``"digest"``, ``"basic"``...).
        params: the auth-params, names lower-cased, quoted-strings unescaped.
        token68: the token68 form's value, when the challenge uses it instead of params.
    """

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)
    token68: str | None = None


def _param_value(match: re.Match[str]) -> str:
    token = match.group(2)
    if token is not None:
        return token
    return _QUOTED_PAIR_RE.sub(r"\1", match.group(3))


def parse_challenges(value: str) -> list[AuthChallenge]:
    """Parse a ``WWW-Authenticate`` (or ``Proxy-Authenticate``) field value.

    RFC 9110 §11.6.1: ``#challenge`` with ``challenge = auth-scheme [ 1*SP ( token68 /
    #auth-param ) ]`` and ``auth-param = token BWS "=" BWS ( token / quoted-string )``.

    Args:
        value: the field value, e.g. ``'Basic realm="a", Digest realm="b", nonce="n"'``.

    Returns:
        The challenges in order (empty for an empty value).

    Raises:
        ValueError: the value does not follow the grammar (e.g. an unterminated
            quoted-string, a parameter without a scheme, a parameter repeated within one
            challenge, which RFC 9110 §11.2 forbids).
    """
    challenges: list[AuthChallenge] = []
    params: dict[str, str] = {}
    pos, end = 0, len(value)
    while True:
        pos = _SEPARATORS_RE.match(value, pos).end()  # type: ignore[union-attr]
        if pos >= end:
            break
        if challenges and challenges[-1].token68 is None:
            param = _PARAM_RE.match(value, pos)
            if param is not None:
                name = param.group(1).lower()
                if name in params:
                    raise ValueError(f"auth-param {name!r} repeated in one challenge")
                params[name] = _param_value(param)
                pos = param.end()
                continue
        scheme = _SCHEME_RE.match(value, pos)
        if scheme is None:
            raise ValueError(f"malformed challenge at offset {pos}: {value[pos : pos + 32]!r}")
        pos = scheme.end()
        params = {}
        token68 = None
        if _PARAM_RE.match(value, pos) is None:
            # "Scheme token68" (the token68 follows the scheme after SP, never a comma).
            match68 = _TOKEN68_RE.match(value, pos) if pos > scheme.end(1) else None
            if match68 is not None:
                token68 = match68.group(1)
                pos = match68.end()
        challenges.append(AuthChallenge(scheme.group(1).lower(), params, token68))
    return challenges


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """A usable Digest challenge (RFC 7616 §3.3).

    Attributes:
        realm: the realm (may be empty).
        nonce: the server nonce (never empty).
        algorithm: the algorithm as the server spelled it (``"MD5"`` when absent).
        qop: the chosen quality of protection, ``"auth-int"``, ``"auth"`` or ``""`` when the
            server offered none (RFC 2069 compatibility).
        opaque: the opaque value to echo, or ``None``.
        domain: the URIs of the protection space (``domain`` parameter), possibly relative.
        stale: whether the server marked the previous nonce as stale.
    """

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: str = ""
    opaque: str | None = None
    domain: tuple[str, ...] = ()
    stale: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> DigestChallenge:
        """Validate the auth-params of one Digest challenge.

        Args:
            params: the challenge's parameters (lower-cased names), see
                :func:`parse_challenges`.

        Returns:
            The challenge, with the preferred qop chosen.

        Raises:
            ValueError: ``realm`` or ``nonce`` is missing, ``nonce`` is empty, the algorithm
                is not supported, or ``qop`` offers neither ``auth`` nor ``auth-int``.
        """
        if "realm" not in params:
            raise ValueError("Malformed Digest auth challenge: missing 'realm'")
        nonce = params.get("nonce")
        if not nonce:
            # The nonce is what makes each response unique (RFC 7616 §3.3).
            raise ValueError("Malformed Digest auth challenge: missing or empty 'nonce'")
        algorithm = params.get("algorithm", "MD5")
        if algorithm.upper() not in _ALGORITHMS:
            raise ValueError(f"Unsupported Digest auth algorithm: {algorithm!r}")
        qop = ""
        if "qop" in params:
            offered = {option.strip().lower() for option in params["qop"].split(",")}
            qop = next((option for option in _QOPS if option in offered), "")
            if not qop:
                raise ValueError(f"Unsupported Digest auth qop: {params['qop']!r}")
        return cls(
            realm=params["realm"],
            nonce=nonce,
            algorithm=algorithm,
            qop=qop,
            opaque=params.get("opaque"),
            domain=tuple(params.get("domain", "").split()),
            stale=params.get("stale", "").lower() == "true",
        )


def select_digest_challenge(challenges: Iterable[AuthChallenge]) -> DigestChallenge:
    """Choose the Digest challenge to answer: the strongest usable algorithm (RFC 7616 §3.7).

    Args:
        challenges: parsed challenges of every ``WWW-Authenticate`` field of a response.

    Returns:
        The chosen challenge; on a tie, the first offered.

    Raises:
        ValueError: there is no Digest challenge, or none is usable (the message says why).
    """
    best: DigestChallenge | None = None
    problem = "no Digest challenge offered"
    for challenge in challenges:
        if challenge.scheme != "digest":
            continue
        try:
            candidate = DigestChallenge.from_params(challenge.params)
        except ValueError as exc:
            problem = str(exc)
            continue
        if best is None or _rank(candidate) > _rank(best):
            best = candidate
    if best is None:
        raise ValueError(problem)
    return best


def _rank(challenge: DigestChallenge) -> int:
    return _ALGORITHMS[challenge.algorithm.upper()][1]


def digest_response(
    *,
    algorithm: str,
    username: str,
    password: str,
    realm: str,
    method: str,
    uri: str,
    nonce: str,
    cnonce: str = "",
    nc: str = "",
    qop: str = "",
    entity_body: bytes = b"",
) -> str:
    """Compute the ``response`` of a Digest ``Authorization`` (RFC 7616 §3.4.1).

    ``H`` is the algorithm's hash as lower-case hex and ``KD(s, d) = H(s ":" d)``;
    ``A1 = username ":" realm ":" password`` (``-sess``: ``H(A1) ":" nonce ":" cnonce``,
    §3.4.2), ``A2 = method ":" uri`` (``auth-int``: ``":" H(entity-body)`` appended,
    §3.4.3). With a qop, ``response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2))``;
    without one (RFC 2069), ``KD(H(A1), nonce ":" H(A2))``. Text is UTF-8 encoded.

    Args:
        algorithm: e.g. ``"MD5"``, ``"SHA-256-sess"`` (case-insensitive).
        username: the user name.
        password: the password.
        realm: the challenge's realm.
        method: the request method.
        uri: the request-target, as sent (e.g. ``"/dir/index.html?x=1"``).
        nonce: the server nonce.
        cnonce: the client nonce (required with a qop or a ``-sess`` algorithm).
        nc: the nonce count, 8 hex digits (required with a qop).
        qop: ``"auth"``, ``"auth-int"`` or ``""``.
        entity_body: the request body, for ``auth-int``.

    Returns:
        The hex digest.

    Raises:
        ValueError: the algorithm or qop is not supported.
    """
    try:
        hash_name, _, session = _ALGORITHMS[algorithm.upper()]
    except KeyError:
        raise ValueError(f"Unsupported Digest auth algorithm: {algorithm!r}") from None
    if qop not in ("", "auth", "auth-int"):
        raise ValueError(f"Unsupported Digest auth qop: {qop!r}")

    def hexdigest(data: bytes) -> bytes:
        return hashlib.new(hash_name, data).hexdigest().encode("ascii")

    ha1 = hexdigest(f"{username}:{realm}:{password}".encode())
    if session:
        ha1 = hexdigest(b":".join((ha1, nonce.encode(), cnonce.encode())))
    a2 = f"{method}:{uri}".encode()
    if qop == "auth-int":
        a2 = b":".join((a2, hexdigest(entity_body)))
    ha2 = hexdigest(a2)
    if qop:
        data = b":".join((nonce.encode(), nc.encode(), cnonce.encode(), qop.encode(), ha2))
    else:
        data = b":".join((nonce.encode(), ha2))
    return hexdigest(b":".join((ha1, data))).decode("ascii")


def _quoted(value: str) -> str:
    # RFC 9110 §5.6.4: DQUOTE and backslash are escaped with a backslash.
    return '"' + _QUOTE_RE.sub(r"\\\1", value) + '"'


def build_authorization(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    nc: int = 1,
    cnonce: str | None = None,
    entity_body: bytes = b"",
) -> str:
    """Build the ``Authorization`` field value answering ``challenge`` (RFC 7616 §3.4).

    Args:
        challenge: the challenge to answer.
        username: the user name; one that is not printable ASCII is sent as ``username*``
            in RFC 8187 form (RFC 7616 §3.4.4).
        password: the password.
        method: the request method.
        uri: the request-target as sent.
        nc: the nonce count (how many requests used this nonce, this one included).
        cnonce: the client nonce; a random one (64 bits) when ``None``.
        entity_body: the request body, for ``qop=auth-int``.

    Returns:
        e.g. ``'Digest username="Mufasa", realm="...", nonce="...", uri="/", ...'``.
    """
    if cnonce is None:
        cnonce = secrets.token_hex(8)
    nc_value = f"{nc:08x}"
    response = digest_response(
        algorithm=challenge.algorithm,
        username=username,
        password=password,
        realm=challenge.realm,
        method=method,
        uri=uri,
        nonce=challenge.nonce,
        cnonce=cnonce,
        nc=nc_value,
        qop=challenge.qop,
        entity_body=entity_body,
    )
    if _PLAIN_USERNAME_RE.fullmatch(username):
        parts = [f"username={_quoted(username)}"]
    else:
        parts = [f"username*=UTF-8''{quote(username, safe='')}"]
    parts += [
        f"realm={_quoted(challenge.realm)}",
        f"nonce={_quoted(challenge.nonce)}",
        f"uri={_quoted(uri)}",
        f'response="{response}"',
        f"algorithm={challenge.algorithm}",
    ]
    if challenge.opaque is not None:
        parts.append(f"opaque={_quoted(challenge.opaque)}")
    if challenge.qop:
        parts += [f"qop={challenge.qop}", f"nc={nc_value}"]
    if challenge.qop or _ALGORITHMS[challenge.algorithm.upper()][2]:
        # The server needs the cnonce whenever it went into the digest (-sess: §3.4.2).
        parts.append(f"cnonce={_quoted(cnonce)}")
    return "Digest " + ", ".join(parts)


class _Request(Protocol):
    """What the middleware uses of aiohttp's ``ClientRequest``."""

    @property
    def method(self) -> str: ...
    @property
    def url(self) -> URL: ...
    @property
    def headers(self) -> MutableMultiMapping[str]: ...
    @property
    def body(self) -> object: ...


class _Response(Protocol):
    """What the middleware uses of aiohttp's ``ClientResponse``."""

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> MultiMapping[str]: ...


_RequestT = TypeVar("_RequestT", bound=_Request)
_ResponseT = TypeVar("_ResponseT", bound=_Response)


async def _entity_body(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, Payload):
        return await body.as_bytes()
    raise TypeError(f"cannot hash a request body of type {type(body).__name__} for auth-int")


async def _release(response: object) -> None:
    # The 401 is discarded: give its connection back before retrying (aiohttp's release()
    # is synchronous; an awaitable result is awaited so nothing is left pending).
    release = getattr(response, "release", None)
    if callable(release):
        result = release()
        if inspect.isawaitable(result):
            await result


_Origin = tuple[str, str, int | None]


def _origin(url: URL) -> _Origin:
    # RFC 6454 §4: scheme, host and port (the scheme's default port when none is given).
    return (url.scheme, (url.raw_host or "").lower(), url.port)


def _path_in_space(path: str, prefix: str) -> bool:
    # A protection-space URI covers the URIs it is a prefix of, at a path boundary
    # (RFC 7616 §3.3 domain; same rule as cookie path-match, RFC 6265 §5.1.4).
    if not path.startswith(prefix):
        return False
    return len(path) == len(prefix) or prefix.endswith("/") or path[len(prefix)] == "/"


class DigestAuthMiddleware:
    """Client middleware answering HTTP Digest challenges (RFC 7616).

    Args:
        login: the user name (no ``":"``, as for ``BasicAuth``).
        password: the password.
        preemptive: after a first challenge, send credentials with later requests in the
            same protection space without waiting for a ``401`` (RFC 7616 §3.6).

    Raises:
        ValueError: ``login`` or ``password`` is ``None``, or ``login`` contains ``":"``.
    """

    def __init__(self, login: str, password: str, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in username (RFC 1945#section-11.1)')
        self._login = login
        self._password = password
        self._preemptive = preemptive
        self._challenge: DigestChallenge | None = None
        self._last_nonce = ""
        self._nonce_count = 0
        # (origin, path prefix) pairs of the current protection space.
        self._space: tuple[tuple[_Origin, str], ...] = ()

    async def __call__(
        self, request: _RequestT, handler: Callable[[_RequestT], Awaitable[_ResponseT]]
    ) -> _ResponseT:
        """Send ``request`` through ``handler``, answering one Digest challenge if needed.

        Args:
            request: the ``ClientRequest``; its ``Authorization`` header is set when
                credentials are sent.
            handler: the next handler of the middleware chain.

        Returns:
            The response of the last attempt (at most two are made).
        """
        for attempt in (0, 1):
            if attempt or (self._preemptive and self._in_space(request.url)):
                request.headers[hdrs.AUTHORIZATION] = await self._authorization(request)
            response = await handler(request)
            if attempt or not self._take_challenge(request.url, response):
                break
            await _release(response)
        return response

    def _in_space(self, url: URL) -> bool:
        if self._challenge is None:
            return False
        origin = _origin(url)
        path = url.raw_path or "/"
        return any(
            origin == space_origin and _path_in_space(path, prefix)
            for space_origin, prefix in self._space
        )

    async def _authorization(self, request: _Request) -> str:
        challenge = self._challenge
        if challenge is None:  # pragma: no cover - _take_challenge set it before any retry
            raise RuntimeError("no Digest challenge to answer")
        body = b""
        if challenge.qop == "auth-int":
            body = await _entity_body(request.body)
        # Counted after the await, so concurrent requests never share an nc (RFC 7616 §3.4).
        if challenge.nonce == self._last_nonce:
            self._nonce_count += 1
        else:
            self._last_nonce, self._nonce_count = challenge.nonce, 1
        return build_authorization(
            challenge,
            username=self._login,
            password=self._password,
            method=request.method.upper(),
            uri=request.url.raw_path_qs,
            nc=self._nonce_count,
            entity_body=body,
        )

    def _take_challenge(self, url: URL, response: _Response) -> bool:
        """Adopt the response's Digest challenge; return whether a retry can answer it."""
        if response.status != 401:
            return False
        challenges: list[AuthChallenge] = []
        for value in response.headers.getall(hdrs.WWW_AUTHENTICATE, ()):
            try:
                challenges += parse_challenges(value)
            except ValueError as exc:
                client_logger.debug("Ignoring malformed WWW-Authenticate %r: %s", value, exc)
        try:
            challenge = select_digest_challenge(challenges)
        except ValueError as exc:
            client_logger.debug("Not answering the 401 of %s: %s", url, exc)
            return False
        self._challenge = challenge
        self._space = self._protection_space(challenge, url)
        return True

    @staticmethod
    def _protection_space(challenge: DigestChallenge, url: URL) -> tuple[tuple[_Origin, str], ...]:
        # RFC 7616 §3.3: "domain" lists the URIs of the space (relative ones against the
        # request); without it the space is the whole origin. URIs of other origins are
        # ignored: credentials derived for this server are never volunteered elsewhere, and
        # a domain naming no usable URI leaves nothing to authenticate preemptively.
        origin = _origin(url)
        if not challenge.domain:
            return ((origin, "/"),)
        space: list[tuple[_Origin, str]] = []
        for uri in challenge.domain:
            try:
                target = url.join(URL(uri))
            except ValueError:
                continue
            if _origin(target) == origin:
                space.append((origin, target.raw_path or "/"))
        return tuple(space)
