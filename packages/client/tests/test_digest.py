"""Digest authentication (RFC 7616): challenge parsing, response computation, middleware."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aioloom.client._digest import (
    AuthChallenge,
    DigestAuthMiddleware,
    DigestChallenge,
    build_authorization,
    digest_response,
    parse_challenges,
    select_digest_challenge,
)
from aioloom.http.aio import BytesPayload, Payload

# -- RFC test vectors -----------------------------------------------------------------------

# RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
RFC7616 = {
    "username": "Mufasa",
    "password": "Circle of Life",
    "realm": "http-auth@example.org",
    "method": "GET",
    "uri": "/dir/index.html",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    "nc": "00000001",
    "qop": "auth",
}
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ("md5", "8ca523f5e9506fed4657c9700eebdbec"),  # algorithm names are case-insensitive
        ("SHA256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_example(algorithm: str, expected: str) -> None:
    response = digest_response(
        algorithm=algorithm,
        username=RFC7616["username"],
        password=RFC7616["password"],
        realm=RFC7616["realm"],
        method=RFC7616["method"],
        uri=RFC7616["uri"],
        nonce=RFC7616["nonce"],
        cnonce=RFC7616["cnonce"],
        nc=RFC7616["nc"],
        qop=RFC7616["qop"],
    )
    assert response == expected


def test_rfc2617_example() -> None:
    # RFC 2617 §3.5.
    response = digest_response(
        algorithm="MD5",
        username="Mufasa",
        password="Circle Of Life",
        realm="testrealm@host.com",
        method="GET",
        uri="/dir/index.html",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        cnonce="0a4f113b",
        nc="00000001",
        qop="auth",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def test_rfc7616_authorization_header() -> None:
    challenge = DigestChallenge(
        realm=RFC7616["realm"],
        nonce=RFC7616["nonce"],
        algorithm="MD5",
        qop="auth",
        opaque=RFC7616_OPAQUE,
    )
    header = build_authorization(
        challenge,
        username="Mufasa",
        password="Circle of Life",
        method="GET",
        uri="/dir/index.html",
        nc=1,
        cnonce=RFC7616["cnonce"],
    )
    assert header.startswith("Digest ")
    (parsed,) = parse_challenges(header)
    assert parsed.scheme == "digest"
    assert dict(parsed.params) == {
        "username": "Mufasa",
        "realm": "http-auth@example.org",
        "uri": "/dir/index.html",
        "algorithm": "MD5",
        "nonce": RFC7616["nonce"],
        "nc": "00000001",
        "cnonce": RFC7616["cnonce"],
        "qop": "auth",
        "response": "8ca523f5e9506fed4657c9700eebdbec",
        "opaque": RFC7616_OPAQUE,
    }
    # qop, nc and algorithm are tokens: never quoted (RFC 7616 §3.4).
    assert "qop=auth," in header and "nc=00000001," in header and "algorithm=MD5," in header


def _h(name: str, text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.new(name, data).hexdigest()


ALGORITHMS = [
    ("MD5", "md5"),
    ("SHA", "sha1"),
    ("SHA-256", "sha256"),
    ("SHA-512", "sha512"),
]
if "sha512_256" in hashlib.algorithms_available:
    ALGORITHMS.append(("SHA-512-256", "sha512_256"))


@pytest.mark.parametrize(("algorithm", "hash_name"), ALGORITHMS)
@pytest.mark.parametrize("session", [False, True])
@pytest.mark.parametrize("qop", ["", "auth", "auth-int"])
def test_digest_response_formula(algorithm: str, hash_name: str, session: bool, qop: str) -> None:
    # An independent spelling of RFC 7616 §3.4.1-3.4.3.
    user, realm, password, nonce, cnonce, nc = "u", "r", "p\u00e9", "n", "c", "0000000a"
    method, uri, body = "POST", "/x?y=1", b"entity"
    ha1 = _h(hash_name, f"{user}:{realm}:{password}")
    if session:
        ha1 = _h(hash_name, f"{ha1}:{nonce}:{cnonce}")
    a2 = f"{method}:{uri}"
    if qop == "auth-int":
        a2 += ":" + _h(hash_name, body)
    ha2 = _h(hash_name, a2)
    tail = f"{nonce}:{nc}:{cnonce}:{qop}:{ha2}" if qop else f"{nonce}:{ha2}"
    expected = _h(hash_name, f"{ha1}:{tail}")
    got = digest_response(
        algorithm=algorithm + ("-sess" if session else ""),
        username=user,
        password=password,
        realm=realm,
        method=method,
        uri=uri,
        nonce=nonce,
        cnonce=cnonce,
        nc=nc,
        qop=qop,
        entity_body=body,
    )
    assert got == expected


@pytest.mark.parametrize(
    ("algorithm", "qop"), [("SHA-3", "auth"), ("", "auth"), ("MD5", "auth-conf"), ("MD5", "AUTH")]
)
def test_digest_response_rejects_unknown(algorithm: str, qop: str) -> None:
    with pytest.raises(ValueError, match="Unsupported"):
        digest_response(
            algorithm=algorithm,
            username="u",
            password="p",
            realm="r",
            method="GET",
            uri="/",
            nonce="n",
            cnonce="c",
            nc="00000001",
            qop=qop,
        )


# -- challenge parsing (RFC 9110 §11.6.1, §11.2) ---------------------------------------------

PARSE_CASES: list[tuple[str, list[tuple[str, dict[str, str], str | None]]]] = [
    ("", []),
    (" , ,", []),
    ('Digest realm="a", nonce="b"', [("digest", {"realm": "a", "nonce": "b"}, None)]),
    ("Digest realm=a,nonce=b", [("digest", {"realm": "a", "nonce": "b"}, None)]),
    ('Digest realm = "a" ,  nonce =b ', [("digest", {"realm": "a", "nonce": "b"}, None)]),
    ('DIGEST Realm="A", NONCE="B"', [("digest", {"realm": "A", "nonce": "B"}, None)]),
    ('Digest realm="a, b=c", nonce=""', [("digest", {"realm": "a, b=c", "nonce": ""}, None)]),
    (r'Digest realm="say \"hi\" \\ \x"', [("digest", {"realm": 'say "hi" \\ x'}, None)]),
    ('Digest realm="tab\there"', [("digest", {"realm": "tab\there"}, None)]),
    ('Digest realm="caf\u00e9"', [("digest", {"realm": "caf\u00e9"}, None)]),
    (
        # RFC 9110 §11.6.1's example.
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
        [
            ("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}, None),
            ("basic", {"realm": "simple"}, None),
        ],
    ),
    ("Bearer abc.DEF-_~+/==", [("bearer", {}, "abc.DEF-_~+/==")]),
    ("Negotiate", [("negotiate", {}, None)]),
    ("Digest realm=", [("digest", {}, "realm=")]),  # a token68, not a parameter
    ("Basic, Negotiate", [("basic", {}, None), ("negotiate", {}, None)]),
    (
        'Basic realm="x", Digest realm="y", nonce="z", Bearer t68',
        [
            ("basic", {"realm": "x"}, None),
            ("digest", {"realm": "y", "nonce": "z"}, None),
            ("bearer", {}, "t68"),
        ],
    ),
]


@pytest.mark.parametrize(("value", "expected"), PARSE_CASES)
def test_parse_challenges(
    value: str, expected: list[tuple[str, dict[str, str], str | None]]
) -> None:
    parsed = parse_challenges(value)
    assert [(c.scheme, dict(c.params), c.token68) for c in parsed] == expected


MALFORMED_CHALLENGES = [
    'Digest realm="unterminated',
    'Digest realm="a", nonce="b',
    'realm="a"',  # a parameter needs a scheme first
    'Digest realm="a" nonce="b"',  # missing comma
    'Digest realm="a", realm="b"',  # RFC 9110 §11.2: once per challenge
    'Digest Realm="a", realm="b"',
    "Digest realm=,nonce=b",
    'Digest realm="a\x00b"',
    'Digest realm="a\nb"',
    'Digest realm="a\\\x01"',
    "Digest =x",
    "Digest realm=a b",
    "Basic abc=, realm=x",  # a token68 cannot be followed by parameters
    '"quoted scheme"',
    "Digest realm=\u00e9",
]


@pytest.mark.parametrize("value", MALFORMED_CHALLENGES)
def test_parse_challenges_rejects_malformed(value: str) -> None:
    with pytest.raises(ValueError):
        parse_challenges(value)


def test_parse_challenges_is_linear_on_hostile_input() -> None:
    # No catastrophic backtracking on long unterminated or escaped quoted-strings.
    for value in ('Digest realm="' + "\\a" * 50_000, 'Digest realm="' + "a" * 100_000):
        with pytest.raises(ValueError):
            parse_challenges(value)


# -- challenge validation ----------------------------------------------------------------------

VALID_PARAMS = [
    ({"realm": "r", "nonce": "n"}, DigestChallenge("r", "n")),
    ({"realm": "", "nonce": "n"}, DigestChallenge("", "n")),
    ({"realm": "r", "nonce": "n", "qop": "auth"}, DigestChallenge("r", "n", qop="auth")),
    (
        {"realm": "r", "nonce": "n", "qop": "auth, auth-int"},
        DigestChallenge("r", "n", qop="auth-int"),
    ),
    ({"realm": "r", "nonce": "n", "qop": "auth-conf,AUTH"}, DigestChallenge("r", "n", qop="auth")),
    (
        {"realm": "r", "nonce": "n", "algorithm": "sha-256-SESS"},
        DigestChallenge("r", "n", algorithm="sha-256-SESS"),
    ),
    (
        {"realm": "r", "nonce": "n", "opaque": "", "stale": "TRUE", "domain": "/a  /b/ "},
        DigestChallenge("r", "n", opaque="", stale=True, domain=("/a", "/b/")),
    ),
    ({"realm": "r", "nonce": "n", "stale": "false"}, DigestChallenge("r", "n", stale=False)),
]


@pytest.mark.parametrize(("params", "expected"), VALID_PARAMS)
def test_digest_challenge_from_params(params: dict[str, str], expected: DigestChallenge) -> None:
    assert DigestChallenge.from_params(params) == expected


INVALID_PARAMS = [
    ({"nonce": "n"}, "missing 'realm'"),
    ({"realm": "r"}, "'nonce'"),
    ({"realm": "r", "nonce": ""}, "'nonce'"),
    ({"realm": "r", "nonce": "n", "algorithm": "SHA-3"}, "algorithm"),
    ({"realm": "r", "nonce": "n", "algorithm": "MD5-sess-extra"}, "algorithm"),
    ({"realm": "r", "nonce": "n", "qop": "auth-conf"}, "qop"),
    ({"realm": "r", "nonce": "n", "qop": ""}, "qop"),
]


@pytest.mark.parametrize(("params", "message"), INVALID_PARAMS)
def test_digest_challenge_rejects(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DigestChallenge.from_params(params)


def _challenges(*values: str) -> list[AuthChallenge]:
    return [challenge for value in values for challenge in parse_challenges(value)]


@pytest.mark.parametrize(
    ("values", "algorithm"),
    [
        (['Digest realm="r", nonce="1", algorithm=MD5'], "MD5"),
        (
            ['Digest realm="r", nonce="1"', 'Digest realm="r", nonce="2", algorithm=SHA-256'],
            "SHA-256",
        ),
        (
            ['Digest realm="r", nonce="2", algorithm=SHA-256, Digest realm="r", nonce="1"'],
            "SHA-256",
        ),
        (
            ['Basic realm="b"', 'Digest realm="r", nonce="1", algorithm=SHA-512-sess'],
            "SHA-512-sess",
        ),
        (['Digest realm="r", nonce="1", algorithm=SHA-3', 'Digest realm="r", nonce="2"'], "MD5"),
    ],
)
def test_select_strongest_usable_challenge(values: list[str], algorithm: str) -> None:
    assert select_digest_challenge(_challenges(*values)).algorithm == algorithm


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "no Digest challenge"),
        (['Basic realm="x"', "Bearer abc"], "no Digest challenge"),
        (['Digest realm="r"'], "nonce"),
        (['Digest nonce="n"'], "realm"),
        (['Digest realm="r", nonce="n", algorithm=ROT13'], "algorithm"),
    ],
)
def test_select_without_usable_challenge(values: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select_digest_challenge(_challenges(*values))


# -- Authorization field ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "field"),
    [
        ("plain", 'username="plain"'),
        ('we"ird\\name', 'username="we\\"ird\\\\name"'),
        ("J\u00e4s\u00f8n Doe", "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe"),
        ("line\r\nX: y", "username*=UTF-8''line%0D%0AX%3A%20y"),
    ],
)
def test_username_encoding(username: str, field: str) -> None:
    header = build_authorization(
        DigestChallenge("r", "n"), username=username, password="p", method="GET", uri="/"
    )
    assert header.startswith(f"Digest {field}, ")
    assert "\r" not in header and "\n" not in header


@pytest.mark.parametrize(("algorithm", "cnonce"), [("MD5", False), ("MD5-sess", True)])
def test_cnonce_sent_when_used_without_qop(algorithm: str, cnonce: bool) -> None:
    challenge = DigestChallenge("r", "n", algorithm=algorithm)
    header = build_authorization(challenge, username="u", password="p", method="GET", uri="/")
    params = parse_challenges(header)[0].params
    assert ("cnonce" in params) is cnonce
    assert "nc" not in params and "qop" not in params


def test_server_values_are_escaped_and_opaque_optional() -> None:
    challenge = DigestChallenge(realm='a"b', nonce="n\\1", qop="")
    header = build_authorization(challenge, username="u", password="p", method="GET", uri="/")
    (parsed,) = parse_challenges(header)
    assert parsed.params["realm"] == 'a"b'
    assert parsed.params["nonce"] == "n\\1"
    assert "opaque" not in parsed.params
    assert "qop" not in parsed.params and "nc" not in parsed.params  # RFC 2069 form
    assert "cnonce" not in parsed.params


def test_random_cnonce() -> None:
    challenge = DigestChallenge("r", "n", qop="auth")
    cnonces = {
        parse_challenges(
            build_authorization(challenge, username="u", password="p", method="GET", uri="/")
        )[0].params["cnonce"]
        for _ in range(20)
    }
    assert len(cnonces) == 20
    assert all(re.fullmatch(r"[0-9a-f]{16}", cnonce) for cnonce in cnonces)


# -- the middleware -----------------------------------------------------------------------------


@dataclass
class FakeRequest:
    """The part of ClientRequest the middleware uses."""

    method: str
    url: URL
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    body: object = b""


@dataclass
class FakeResponse:
    status: int
    headers: CIMultiDictProxy[str]
    released: int = 0

    def release(self) -> None:
        self.released += 1


def _response(status: int, *challenges: str) -> FakeResponse:
    headers: CIMultiDict[str] = CIMultiDict()
    for challenge in challenges:
        headers.add("WWW-Authenticate", challenge)
    return FakeResponse(status, CIMultiDictProxy(headers))


class DigestServer:
    """A fake handler that checks Digest credentials the way a server does."""

    def __init__(
        self,
        *,
        user: str = "user",
        password: str = "pass",
        realm: str = "test@h.test",
        algorithm: str = "MD5",
        qop: str | None = "auth",
        extra: str = ', opaque="op"',
    ) -> None:
        self.user, self.password, self.realm = user, password, realm
        self.algorithm, self.qop, self.extra = algorithm, qop, extra
        self.nonce = "nonce-1"
        self.stale_nonces: set[str] = set()
        self.seen: list[str | None] = []
        self.responses: list[FakeResponse] = []

    def challenge(self, stale: bool = False) -> str:
        value = f'Digest realm="{self.realm}", nonce="{self.nonce}", algorithm={self.algorithm}'
        if self.qop is not None:
            value += f', qop="{self.qop}"'
        if stale:
            value += ", stale=true"
        return value + self.extra

    async def __call__(self, request: FakeRequest) -> FakeResponse:
        await asyncio.sleep(0)
        auth = request.headers.get("Authorization")
        self.seen.append(auth)
        response = _response(401, self.challenge())
        if auth is not None:
            params = parse_challenges(auth)[0].params
            if params["nonce"] in self.stale_nonces:
                response = _response(401, self.challenge(stale=True))
            elif await self._valid(request, params):
                response = _response(200)
        self.responses.append(response)
        return response

    async def _valid(self, request: FakeRequest, params: Mapping[str, str]) -> bool:
        body = request.body
        if isinstance(body, Payload):
            body = await body.as_bytes()
        elif isinstance(body, str):
            body = body.encode()
        assert isinstance(body, (bytes, bytearray, memoryview))
        body = bytes(body)
        expected = digest_response(
            algorithm=params["algorithm"],
            username=self.user,
            password=self.password,
            realm=params["realm"],
            method=request.method,
            uri=params["uri"],
            nonce=params["nonce"],
            cnonce=params.get("cnonce", ""),
            nc=params.get("nc", ""),
            qop=params.get("qop", ""),
            entity_body=body,
        )
        return (
            params.get("username") == self.user
            and params["uri"] == request.url.raw_path_qs
            and params["nonce"] == self.nonce
            and params.get("opaque") == ("op" if "opaque" in self.extra else None)
            and params["response"] == expected
        )


def _params(header: str | None) -> Mapping[str, str]:
    assert header is not None
    (challenge,) = parse_challenges(header)
    assert challenge.scheme == "digest"
    return challenge.params


Handler = Callable[[FakeRequest], Awaitable[FakeResponse]]


async def _send(
    middleware: DigestAuthMiddleware, handler: Handler, url: str, **kwargs: object
) -> FakeResponse:
    request = FakeRequest(str(kwargs.pop("method", "GET")), URL(url), **kwargs)  # type: ignore[arg-type]
    return await middleware(request, handler)


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512"])
@pytest.mark.parametrize("qop", ["auth", "auth-int", "auth,auth-int", None])
async def test_answers_challenge_once(algorithm: str, qop: str | None) -> None:
    server = DigestServer(algorithm=algorithm, qop=qop)
    auth = DigestAuthMiddleware("user", "pass")
    response = await _send(auth, server, "http://h.test/dir/index.html?x=1", body=b"data")
    assert response.status == 200
    assert server.seen[0] is None
    params = _params(server.seen[1])
    assert params["algorithm"] == algorithm
    assert params.get("qop") == (None if qop is None else qop.split(",")[-1])
    assert params["uri"] == "/dir/index.html?x=1"
    assert server.responses[0].released == 1  # the 401 gave its connection back
    assert response.released == 0


async def test_no_challenge_no_credentials() -> None:
    calls: list[str | None] = []

    async def ok(request: FakeRequest) -> FakeResponse:
        calls.append(request.headers.get("Authorization"))
        return _response(200)

    auth = DigestAuthMiddleware("user", "pass")
    assert (await _send(auth, ok, "http://h.test/")).status == 200
    assert (await _send(auth, ok, "http://h.test/")).status == 200
    assert calls == [None, None]


async def test_wrong_password_retries_only_once() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "wrong")
    response = await _send(auth, server, "http://h.test/")
    assert response.status == 401
    assert len(server.seen) == 2
    assert response is server.responses[1]
    assert response.released == 0


UNUSABLE_401S = [
    (),
    ("Basic realm=x",),
    ("Digest",),
    ('Digest realm="r"',),  # no nonce
    ('Digest realm="r", nonce=""',),
    ('Digest nonce="n"',),  # no realm
    ('Digest realm="r", nonce="n", algorithm=SHA3-256',),
    ('Digest realm="r", nonce="n", qop="auth-conf"',),
    ('Digest realm="r", nonce="unterminated',),
    ('Digest realm="r", realm="s", nonce="n"',),
    ("Bearer abc", 'Digest realm="r" nonce="n"'),
]


@pytest.mark.parametrize("challenges", UNUSABLE_401S)
async def test_unusable_challenge_returns_the_401(challenges: tuple[str, ...]) -> None:
    calls: list[FakeRequest] = []
    first = _response(401, *challenges)

    async def handler(request: FakeRequest) -> FakeResponse:
        calls.append(request)
        return first

    auth = DigestAuthMiddleware("user", "pass")
    response = await _send(auth, handler, "http://h.test/")
    assert response is first
    assert response.status == 401
    assert len(calls) == 1
    assert "Authorization" not in calls[0].headers
    assert first.released == 0
    # Nothing was learnt: the next request is not authenticated either.
    await _send(auth, handler, "http://h.test/")
    assert "Authorization" not in calls[1].headers


async def test_other_statuses_are_not_challenges() -> None:
    async def forbidden(request: FakeRequest) -> FakeResponse:
        return _response(403, 'Digest realm="r", nonce="n"')

    auth = DigestAuthMiddleware("user", "pass")
    response = await _send(auth, forbidden, "http://h.test/")
    assert response.status == 403


async def test_preemptive_reuse_counts_nonce() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "pass")
    await _send(auth, server, "http://h.test/a")
    response = await _send(auth, server, "http://h.test/b/c")
    assert response.status == 200
    assert len(server.seen) == 3  # 401 + retry, then one preemptive request
    assert _params(server.seen[1])["nc"] == "00000001"
    assert _params(server.seen[2])["nc"] == "00000002"
    assert _params(server.seen[2])["cnonce"] != _params(server.seen[1])["cnonce"]


async def test_preemptive_disabled() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "pass", preemptive=False)
    await _send(auth, server, "http://h.test/a")
    await _send(auth, server, "http://h.test/a")
    assert [header is None for header in server.seen] == [True, False, True, False]


@pytest.mark.parametrize(
    ("url", "preemptive"),
    [
        ("http://h.test/", True),
        ("http://h.test/any/path?q", True),
        ("http://h.test:80/x", True),  # the default port is the same origin
        ("https://h.test/", False),
        ("http://h.test:8080/", False),
        ("http://other.test/", False),
        ("http://sub.h.test/", False),
    ],
)
async def test_protection_space_is_the_origin(url: str, preemptive: bool) -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "pass")
    await _send(auth, server, "http://h.test/start")
    await _send(auth, server, url)
    assert (server.seen[2] is not None) is preemptive


@pytest.mark.parametrize(
    ("domain", "path", "preemptive"),
    [
        ("/api/", "/api/x", True),
        ("/api/", "/api", False),
        ("/api", "/api/x", True),
        ("/api", "/apix", False),
        ("/api /other", "/other", True),
        ("/api", "/", False),
        ("http://h.test/abs/", "/abs/x", True),
        ("http://evil.test/", "/", False),  # other origins are never part of the space
        ("http://evil.test/", "/api/1", False),
        ("http://evil.test/ /api", "/api/1", True),
        ("http://h.test:80/api", "/api/1", True),
        ("http://[::1/ /api", "/api/1", True),  # an unparsable URI is skipped
    ],
)
async def test_protection_space_from_domain(domain: str, path: str, preemptive: bool) -> None:
    server = DigestServer(extra=f', opaque="op", domain="{domain}"')
    auth = DigestAuthMiddleware("user", "pass")
    await _send(auth, server, "http://h.test/api/login")
    await _send(auth, server, "http://h.test" + path)
    assert (server.seen[2] is not None) is preemptive


async def test_foreign_domain_never_gets_credentials() -> None:
    seen: dict[str, list[str | None]] = {"h.test": [], "evil.test": []}
    server = DigestServer(extra=', domain="http://evil.test/ /"')

    async def handler(request: FakeRequest) -> FakeResponse:
        seen[request.url.host or ""].append(request.headers.get("Authorization"))
        if request.url.host == "h.test":
            return await server(request)
        return _response(200)

    auth = DigestAuthMiddleware("user", "pass")
    await _send(auth, handler, "http://h.test/")
    await _send(auth, handler, "http://evil.test/")
    assert seen["evil.test"] == [None]


async def test_stale_nonce_is_answered_with_the_new_one() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "pass")
    await _send(auth, server, "http://h.test/")
    server.stale_nonces.add(server.nonce)
    server.nonce = "nonce-2"
    response = await _send(auth, server, "http://h.test/")
    assert response.status == 200
    assert _params(server.seen[2])["nonce"] == "nonce-1"  # preemptive, stale
    assert _params(server.seen[3])["nonce"] == "nonce-2"
    assert _params(server.seen[3])["nc"] == "00000001"  # nc restarts with a new nonce


@pytest.mark.parametrize(
    "body",
    [b"raw bytes", bytearray(b"raw bytes"), memoryview(b"raw bytes"), "text", BytesPayload(b"p")],
    ids=["bytes", "bytearray", "memoryview", "str", "payload"],
)
async def test_auth_int_hashes_the_body(body: object) -> None:
    server = DigestServer(qop="auth-int")
    auth = DigestAuthMiddleware("user", "pass")
    response = await _send(auth, server, "http://h.test/upload", method="POST", body=body)
    assert response.status == 200
    assert _params(server.seen[1])["qop"] == "auth-int"


async def test_auth_int_with_unknown_body_type_fails_clearly() -> None:
    server = DigestServer(qop="auth-int")
    auth = DigestAuthMiddleware("user", "pass")
    with pytest.raises(TypeError, match="auth-int"):
        await _send(auth, server, "http://h.test/", body=object())


async def test_strongest_of_several_header_lines() -> None:
    server = DigestServer(algorithm="SHA-256")
    first = _response(
        401, "Basic realm=x", f'Digest realm="{server.realm}", nonce="weak"', server.challenge()
    )
    responses = [first]

    async def handler(request: FakeRequest) -> FakeResponse:
        if responses:
            return responses.pop()
        return await server(request)

    auth = DigestAuthMiddleware("user", "pass")
    assert (await _send(auth, handler, "http://h.test/")).status == 200
    assert _params(server.seen[0])["algorithm"] == "SHA-256"


@pytest.mark.parametrize("encoded", [False, True])
async def test_uri_is_the_raw_request_target(encoded: bool) -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "pass")
    url = URL("http://h.test/a%20b/%E2%82%AC?x=1&y=%2F", encoded=encoded)
    response = await auth(FakeRequest("GET", url), server)
    assert response.status == 200
    uri = _params(server.seen[1])["uri"]
    assert uri == url.raw_path_qs
    assert uri.startswith("/a%20b/%E2%82%AC?x=1&y=")
    if encoded:
        assert uri == "/a%20b/%E2%82%AC?x=1&y=%2F"


async def test_method_is_upper_case() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "pass")
    request = FakeRequest("get", URL("http://h.test/"))

    async def handler(req: FakeRequest) -> FakeResponse:
        req.method = "GET"  # the server sees the normalised method
        return await server(req)

    assert (await auth(request, handler)).status == 200


async def test_non_ascii_credentials() -> None:
    server = DigestServer(user="J\u00e4s\u00f8n", password="p\u00e4ss")
    seen: list[str | None] = []

    async def handler(request: FakeRequest) -> FakeResponse:
        header = request.headers.get("Authorization")
        seen.append(header)
        if header is None:
            return await server(request)
        params = parse_challenges(header)[0].params
        assert params["username*"] == "UTF-8''J%C3%A4s%C3%B8n"
        expected = digest_response(
            algorithm="MD5",
            username=server.user,
            password=server.password,
            realm=server.realm,
            method="GET",
            uri="/",
            nonce=server.nonce,
            cnonce=params["cnonce"],
            nc=params["nc"],
            qop="auth",
        )
        return _response(200 if params["response"] == expected else 401)

    auth = DigestAuthMiddleware("J\u00e4s\u00f8n", "p\u00e4ss")
    assert (await _send(auth, handler, "http://h.test/")).status == 200


async def test_concurrent_requests_get_distinct_nonce_counts() -> None:
    server = DigestServer()
    auth = DigestAuthMiddleware("user", "pass")
    await _send(auth, server, "http://h.test/")
    results = await asyncio.gather(*(_send(auth, server, f"http://h.test/{i}") for i in range(5)))
    assert all(result.status == 200 for result in results)
    counts = [_params(header)["nc"] for header in server.seen[2:]]
    assert sorted(counts) == [f"{n:08x}" for n in range(2, 7)]


async def test_awaitable_release_is_awaited() -> None:
    released: list[bool] = []

    class AsyncReleaseResponse(FakeResponse):
        async def release(self) -> None:  # type: ignore[override]
            released.append(True)

    server = DigestServer()

    async def handler(request: FakeRequest) -> FakeResponse:
        response = await server(request)
        return AsyncReleaseResponse(response.status, response.headers)

    auth = DigestAuthMiddleware("user", "pass")
    assert (await _send(auth, handler, "http://h.test/")).status == 200
    assert released == [True]


async def test_handler_exception_propagates() -> None:
    async def broken(request: FakeRequest) -> FakeResponse:
        raise ConnectionResetError("boom")

    auth = DigestAuthMiddleware("user", "pass")
    with pytest.raises(ConnectionResetError):
        await _send(auth, broken, "http://h.test/")


@pytest.mark.parametrize(
    ("login", "password"), [(None, "p"), ("u", None), ("a:b", "p")], ids=["login", "pw", "colon"]
)
def test_constructor_validation(login: str, password: str) -> None:
    with pytest.raises(ValueError):
        DigestAuthMiddleware(login, password)
