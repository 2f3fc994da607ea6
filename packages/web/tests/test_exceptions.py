"""The HTTP exceptions: one class per status, aiohttp 3.14's names, constructors and bodies."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from yarl import URL

from aioloom.web import _exceptions as exc_mod
from aioloom.web._exceptions import (
    HTTPBadRequest,
    HTTPClientError,
    HTTPError,
    HTTPException,
    HTTPFound,
    HTTPInternalServerError,
    HTTPMethodNotAllowed,
    HTTPMove,
    HTTPMovedPermanently,
    HTTPNoContent,
    HTTPNotFound,
    HTTPNotModified,
    HTTPOk,
    HTTPPermanentRedirect,
    HTTPRedirection,
    HTTPRequestEntityTooLarge,
    HTTPResetContent,
    HTTPSeeOther,
    HTTPServerError,
    HTTPSuccessful,
    HTTPTemporaryRedirect,
    HTTPUnavailableForLegalReasons,
    HTTPUseProxy,
    NotAppKeyWarning,
)
from aioloom.web._response import Response

# The HTTP* names of aiohttp 3.14's web.__all__ (plus NotAppKeyWarning, defined beside them).
AIOHTTP_NAMES = {
    "HTTPAccepted", "HTTPBadGateway", "HTTPBadRequest", "HTTPClientError", "HTTPConflict",
    "HTTPCreated", "HTTPError", "HTTPException", "HTTPExpectationFailed",
    "HTTPFailedDependency", "HTTPForbidden", "HTTPFound", "HTTPGatewayTimeout", "HTTPGone",
    "HTTPInsufficientStorage", "HTTPInternalServerError", "HTTPLengthRequired",
    "HTTPMethodNotAllowed", "HTTPMisdirectedRequest", "HTTPMove", "HTTPMovedPermanently",
    "HTTPMultipleChoices", "HTTPNetworkAuthenticationRequired", "HTTPNoContent",
    "HTTPNonAuthoritativeInformation", "HTTPNotAcceptable", "HTTPNotExtended", "HTTPNotFound",
    "HTTPNotImplemented", "HTTPNotModified", "HTTPOk", "HTTPPartialContent",
    "HTTPPaymentRequired", "HTTPPermanentRedirect", "HTTPPreconditionFailed",
    "HTTPPreconditionRequired", "HTTPProxyAuthenticationRequired", "HTTPRedirection",
    "HTTPRequestEntityTooLarge", "HTTPRequestHeaderFieldsTooLarge",
    "HTTPRequestRangeNotSatisfiable", "HTTPRequestTimeout", "HTTPRequestURITooLong",
    "HTTPResetContent", "HTTPSeeOther", "HTTPServerError", "HTTPServiceUnavailable",
    "HTTPSuccessful", "HTTPTemporaryRedirect", "HTTPTooManyRequests", "HTTPUnauthorized",
    "HTTPUnavailableForLegalReasons", "HTTPUnprocessableEntity", "HTTPUnsupportedMediaType",
    "HTTPUpgradeRequired", "HTTPUseProxy", "HTTPVariantAlsoNegotiates",
    "HTTPVersionNotSupported", "NotAppKeyWarning",
}  # fmt: skip

_SPECIAL = {
    "HTTPMethodNotAllowed": ("GET", ["POST"]),
    "HTTPRequestEntityTooLarge": (10, 20),
    "HTTPUnavailableForLegalReasons": ("https://example.org/why",),
}


def _concrete() -> list[type[HTTPException]]:
    out = []
    for name in sorted(AIOHTTP_NAMES):
        cls = getattr(exc_mod, name)
        if isinstance(cls, type) and issubclass(cls, HTTPException) and cls.status_code > 0:
            out.append(cls)
    return out


def _make(cls: type[HTTPException]) -> HTTPException:
    if issubclass(cls, HTTPMove):
        return cls("/new")
    return cls(*_SPECIAL.get(cls.__name__, ()))


def test_names_match_aiohttp() -> None:
    assert set(exc_mod.__all__) == AIOHTTP_NAMES


@pytest.mark.parametrize("cls", _concrete(), ids=lambda c: c.__name__)
def test_every_status_class(cls: type[HTTPException]) -> None:
    exc = _make(cls)
    assert isinstance(exc, Response) and isinstance(exc, Exception)
    assert exc.status == cls.status_code
    assert exc.reason == HTTPStatus(cls.status_code).phrase
    assert str(exc) == exc.reason
    assert bool(exc) is True
    if cls.empty_body:
        assert exc.body is None and exc.text is None
    elif cls is HTTPRequestEntityTooLarge:
        assert exc.text == "Maximum request body size 10 exceeded."
    else:
        assert exc.text == f"{cls.status_code}: {exc.reason}"
        assert exc.content_type == "text/plain"


@pytest.mark.parametrize(
    ("cls", "base"),
    [
        (HTTPOk, HTTPSuccessful),
        (HTTPFound, HTTPRedirection),
        (HTTPNotModified, HTTPRedirection),
        (HTTPNotFound, HTTPClientError),
        (HTTPInternalServerError, HTTPServerError),
    ],
)
def test_hierarchy(cls: type[HTTPException], base: type[HTTPException]) -> None:
    assert issubclass(cls, base)
    assert issubclass(cls, HTTPException)
    assert issubclass(HTTPClientError, HTTPError) and issubclass(HTTPServerError, HTTPError)


def test_abstract_bases_cannot_be_raised() -> None:
    with pytest.raises(TypeError, match="abstract"):
        HTTPException()
    with pytest.raises(TypeError, match="abstract"):
        HTTPClientError()


def test_custom_text_headers_reason_content_type() -> None:
    exc = HTTPNotFound(
        text="nope", reason="Gone Fishing", headers={"X-A": "1"}, content_type="text/html"
    )
    assert exc.text == "nope"
    assert exc.reason == "Gone Fishing"
    assert exc.headers["X-A"] == "1"
    assert exc.content_type == "text/html"
    assert exc.charset == "utf-8"


def test_body_argument_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="body argument is deprecated"):
        exc = HTTPBadRequest(body=b"raw")
    assert exc.body == b"raw"


@pytest.mark.parametrize(
    "cls",
    [
        HTTPMovedPermanently,
        HTTPFound,
        HTTPSeeOther,
        HTTPUseProxy,
        HTTPTemporaryRedirect,
        HTTPPermanentRedirect,
    ],
)
def test_redirects_set_location(cls: type[HTTPMove]) -> None:
    exc = cls(URL("http://example.com/a b"))
    assert exc.headers["Location"] == "http://example.com/a%20b"
    assert exc.location == URL("http://example.com/a b")


@pytest.mark.parametrize("location", ["", None])
def test_redirects_require_location(location: str | None) -> None:
    with pytest.raises(ValueError, match="need a location"):
        HTTPFound(location)  # type: ignore[arg-type]


def test_method_not_allowed_sets_sorted_allow() -> None:
    exc = HTTPMethodNotAllowed("get", {"PUT", "POST", "DELETE"})
    assert exc.headers["Allow"] == "DELETE,POST,PUT"
    assert exc.method == "GET"
    assert exc.allowed_methods == {"PUT", "POST", "DELETE"}
    assert exc.status == 405


def test_request_entity_too_large_keeps_custom_text() -> None:
    exc = HTTPRequestEntityTooLarge(max_size=1, actual_size=2, text="too big")
    assert exc.text == "too big"
    assert exc.status == 413
    assert (exc.max_size, exc.actual_size) == (1, 2)
    assert HTTPRequestEntityTooLarge(5).actual_size == 0


def test_unavailable_for_legal_reasons_link() -> None:
    exc = HTTPUnavailableForLegalReasons("https://example.org/why")
    assert exc.headers["Link"] == '<https://example.org/why>; rel="blocked-by"'
    assert exc.link == URL("https://example.org/why")
    assert "Link" not in HTTPUnavailableForLegalReasons(None).headers
    assert HTTPUnavailableForLegalReasons("").link is None


@pytest.mark.parametrize("cls", [HTTPNoContent, HTTPResetContent, HTTPNotModified])
def test_empty_body_statuses(cls: type[HTTPException]) -> None:
    exc = cls()
    assert exc.body is None
    assert "Content-Type" not in exc.headers


def test_raised_and_caught_as_exception() -> None:
    with pytest.raises(HTTPNotFound) as info:
        raise HTTPNotFound(text="missing")
    assert info.value.status == 404
    assert info.value.text == "missing"


def test_identity_equality_and_hash() -> None:
    a, b = HTTPNotFound(), HTTPNotFound()
    assert a != b and a == a
    assert len({a, b}) == 2


def test_repr() -> None:
    assert repr(HTTPNotFound()) == "<HTTPNotFound Not Found not prepared>"


def test_not_app_key_warning_is_user_warning() -> None:
    assert issubclass(NotAppKeyWarning, UserWarning)


def test_reason_with_newline_rejected() -> None:
    with pytest.raises(ValueError, match="Reason cannot contain"):
        HTTPBadRequest(reason="bad\r\nX-Injected: 1")
