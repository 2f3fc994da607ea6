"""The client exception hierarchy: bases, constructors, attributes, text and pickling."""

from __future__ import annotations

import asyncio
import pickle
import ssl

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aioloom.client import _exceptions as exc
from aioloom.client._reqrep_info import ConnectionKey, RequestInfo

INFO = RequestInfo(URL("http://h/p"), "GET", CIMultiDictProxy(CIMultiDict()), URL("http://h/p#f"))
KEY = ConnectionKey("h", 443, True, True, None, None, None)

HIERARCHY = [
    ("ClientResponseError", ("ClientError",)),
    ("ContentTypeError", ("ClientResponseError",)),
    ("WSServerHandshakeError", ("ClientResponseError",)),
    ("ClientHttpProxyError", ("ClientResponseError",)),
    ("TooManyRedirects", ("ClientResponseError",)),
    ("ClientConnectionError", ("ClientError",)),
    ("ClientConnectionResetError", ("ClientConnectionError",)),
    ("ClientOSError", ("ClientConnectionError",)),
    ("ClientConnectorError", ("ClientOSError",)),
    ("ClientConnectorDNSError", ("ClientConnectorError",)),
    ("ClientProxyConnectionError", ("ClientConnectorError",)),
    ("UnixClientConnectorError", ("ClientConnectorError",)),
    ("ClientSSLError", ("ClientConnectorError",)),
    ("ClientConnectorSSLError", ("ClientSSLError",)),
    ("ClientConnectorCertificateError", ("ClientSSLError",)),
    ("ServerConnectionError", ("ClientConnectionError",)),
    ("ServerDisconnectedError", ("ServerConnectionError",)),
    ("ServerTimeoutError", ("ServerConnectionError",)),
    ("ConnectionTimeoutError", ("ServerTimeoutError",)),
    ("SocketTimeoutError", ("ServerTimeoutError",)),
    ("ServerFingerprintMismatch", ("ServerConnectionError",)),
    ("ClientPayloadError", ("ClientError",)),
    ("InvalidURL", ("ClientError",)),
    ("InvalidUrlClientError", ("InvalidURL",)),
    ("RedirectClientError", ("ClientError",)),
    ("NonHttpUrlClientError", ("ClientError",)),
    ("InvalidUrlRedirectClientError", ("InvalidUrlClientError", "RedirectClientError")),
    ("NonHttpUrlRedirectClientError", ("NonHttpUrlClientError", "RedirectClientError")),
]


@pytest.mark.parametrize(("name", "bases"), HIERARCHY)
def test_hierarchy(name: str, bases: tuple[str, ...]) -> None:
    cls = getattr(exc, name)
    for base in bases:
        assert issubclass(cls, getattr(exc, base))
    assert name in exc.__all__


def test_foreign_bases() -> None:
    assert issubclass(exc.ClientOSError, OSError)
    assert issubclass(exc.ClientConnectionResetError, ConnectionResetError)
    assert issubclass(exc.ServerTimeoutError, asyncio.TimeoutError)
    assert issubclass(exc.ClientConnectorSSLError, ssl.SSLError)
    assert issubclass(exc.ClientConnectorCertificateError, ssl.CertificateError)
    assert issubclass(exc.InvalidURL, ValueError)
    assert issubclass(exc.WSMessageTypeError, TypeError)


def test_client_response_error() -> None:
    headers = CIMultiDict({"X": "1"})
    error = exc.ClientResponseError(INFO, (), status=418, message="teapot", headers=headers)
    assert error.status == 418
    assert error.message == "teapot"
    assert error.headers is headers
    assert error.request_info is INFO
    assert error.history == ()
    assert str(error) == "418, message='teapot', url='http://h/p#f'"
    assert repr(error).startswith("ClientResponseError(RequestInfo(")
    assert "status=418" in repr(error) and "message='teapot'" in repr(error)
    bare = exc.ClientResponseError(INFO, ())
    assert bare.status == 0
    assert "status=" not in repr(bare)


def test_client_connector_error() -> None:
    os_error = ConnectionRefusedError(111, "Connection refused")
    error = exc.ClientConnectorError(KEY, os_error)
    assert (error.host, error.port, error.ssl) == ("h", 443, True)
    assert error.os_error is os_error
    assert error.errno == 111
    assert str(error) == "Cannot connect to host h:443 ssl:default [Connection refused]"
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is exc.ClientConnectorError
    assert clone.host == "h"
    unix = exc.UnixClientConnectorError("/tmp/s", KEY, os_error)
    assert unix.path == "/tmp/s"
    assert str(unix).startswith("Cannot connect to unix socket /tmp/s ssl:default")


def test_certificate_error() -> None:
    cert_error = ssl.SSLCertVerificationError("bad cert")
    error = exc.ClientConnectorCertificateError(KEY, cert_error)
    assert error.certificate_error is cert_error
    assert (error.host, error.port, error.ssl) == ("h", 443, True)
    assert "SSLCertVerificationError" in str(error)


def test_server_disconnected_and_fingerprint() -> None:
    assert exc.ServerDisconnectedError().message == "Server disconnected"
    assert exc.ServerDisconnectedError("gone").args == ("gone",)
    mismatch = exc.ServerFingerprintMismatch(b"a", b"b", "h", 1)
    assert (mismatch.expected, mismatch.got, mismatch.host, mismatch.port) == (b"a", b"b", "h", 1)
    assert repr(mismatch) == "<ServerFingerprintMismatch expected=b'a' got=b'b' host='h' port=1>"


def test_invalid_url() -> None:
    error = exc.InvalidURL("http://[x", "bad host")
    assert error.url == "http://[x"
    assert error.description == "bad host"
    assert str(error) == "http://[x - bad host"
    assert repr(error) == "<InvalidURL http://[x - bad host>"
    plain = exc.InvalidUrlClientError(URL("/rel"))
    assert str(plain) == "/rel"
    assert plain.description is None


def test_request_info_defaults() -> None:
    info = RequestInfo(URL("http://h/"), "GET", CIMultiDictProxy(CIMultiDict()))
    assert info.real_url == info.url
    assert info == (info.url, "GET", info.headers, info.url)
