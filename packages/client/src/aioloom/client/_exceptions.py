"""The client's exception hierarchy, with aiohttp 3.14's names, constructors and attributes.

Every error the client raises on purpose is a :class:`ClientError`; timeouts are also
:class:`asyncio.TimeoutError` and connection errors also :class:`OSError`, so that code
written against either family catches them::

    ClientError
     ├── ClientResponseError                 status, message, headers, request_info, history
     │    ├── ContentTypeError               json() on a body of another media type
     │    ├── WSServerHandshakeError
     │    ├── ClientHttpProxyError           a proxy refused CONNECT
     │    └── TooManyRedirects
     ├── ClientConnectionError
     │    ├── ClientConnectionResetError     (also ConnectionResetError)
     │    ├── ClientOSError                  (also OSError)
     │    │    └── ClientConnectorError      connection_key, os_error, host, port, ssl
     │    │         ├── ClientConnectorDNSError
     │    │         ├── ClientProxyConnectionError
     │    │         ├── UnixClientConnectorError
     │    │         └── ClientSSLError
     │    │              ├── ClientConnectorSSLError          (also ssl.SSLError)
     │    │              └── ClientConnectorCertificateError  (also ssl.CertificateError)
     │    └── ServerConnectionError
     │         ├── ServerDisconnectedError
     │         ├── ServerTimeoutError        (also asyncio.TimeoutError)
     │         │    ├── ConnectionTimeoutError
     │         │    └── SocketTimeoutError
     │         └── ServerFingerprintMismatch
     ├── ClientPayloadError                  a malformed or truncated response body
     ├── UploadAbortedError                  a tracked request body was not fully sent
     ├── InvalidURL                          (also ValueError)
     │    └── InvalidUrlClientError
     │         └── InvalidUrlRedirectClientError
     ├── NonHttpUrlClientError
     │    └── NonHttpUrlRedirectClientError
     └── RedirectClientError                 (base of the two *RedirectClientError)

    WSMessageTypeError (TypeError)
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any

from multidict import MultiMapping
from yarl import URL

if TYPE_CHECKING:
    from ._reqrep_info import ConnectionKey, RequestInfo
    from ._response import ClientResponse

__all__ = (
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientConnectorCertificateError",
    "ClientConnectorDNSError",
    "ClientConnectorError",
    "ClientConnectorSSLError",
    "ClientError",
    "ClientHttpProxyError",
    "ClientOSError",
    "ClientPayloadError",
    "ClientProxyConnectionError",
    "ClientResponseError",
    "ClientSSLError",
    "ConnectionTimeoutError",
    "ContentTypeError",
    "InvalidURL",
    "InvalidUrlClientError",
    "InvalidUrlRedirectClientError",
    "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError",
    "RedirectClientError",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "ServerTimeoutError",
    "SocketTimeoutError",
    "TooManyRedirects",
    "UnixClientConnectorError",
    "UploadAbortedError",
    "WSMessageTypeError",
    "WSServerHandshakeError",
)

StrOrURL = str | URL


class ClientError(Exception):
    """Base class of every client error."""


class ClientResponseError(ClientError):
    """An error tied to a response: a bad status, a malformed head, a refused proxy.

    Args:
        request_info: the :class:`RequestInfo` of the request that got the response.
        history: the responses of the redirects followed before this one.
        status: the HTTP status (for a malformed head: the parser's status hint, 400 or 431).
        message: the reason phrase or a description of what was wrong.
        headers: the response headers, when there were any.

    Attributes:
        status, message, headers, request_info, history: as given.
    """

    def __init__(
        self,
        request_info: RequestInfo,
        history: tuple[ClientResponse, ...],
        *,
        status: int | None = None,
        message: str = "",
        headers: MultiMapping[str] | None = None,
    ) -> None:
        self.request_info = request_info
        self.status = 0 if status is None else status
        self.message = message
        self.headers = headers
        self.history = history
        self.args = (request_info, history)

    def __str__(self) -> str:
        return f"{self.status}, message={self.message!r}, url={str(self.request_info.real_url)!r}"

    def __repr__(self) -> str:
        args = f"{self.request_info!r}, {self.history!r}"
        if self.status != 0:
            args += f", status={self.status!r}"
        if self.message != "":
            args += f", message={self.message!r}"
        if self.headers is not None:
            args += f", headers={self.headers!r}"
        return f"{type(self).__name__}({args})"


class ContentTypeError(ClientResponseError):
    """``json()`` was called on a body whose Content-Type is not the expected one."""


class WSServerHandshakeError(ClientResponseError):
    """The server refused or botched the WebSocket handshake."""


class ClientHttpProxyError(ClientResponseError):
    """A proxy answered the ``CONNECT`` request with a status other than 200."""


class TooManyRedirects(ClientResponseError):
    """More redirects than ``max_redirects``."""


class ClientConnectionError(ClientError):
    """Base class of the errors of the connection itself."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The connection was reset or closed while the client wrote to it."""


class ClientOSError(ClientConnectionError, OSError):
    """An operating-system error on the connection (errno and strerror as OSError)."""


class ClientConnectorError(ClientOSError):
    """The connector could not open a connection to the host.

    Args:
        connection_key: the :class:`ConnectionKey` of the attempted connection.
        os_error: the underlying error.
    """

    def __init__(self, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._conn_key = connection_key
        self._os_error = os_error
        super().__init__(os_error.errno, os_error.strerror)
        self.args = (connection_key, os_error)

    @property
    def os_error(self) -> OSError:
        """The underlying error."""
        return self._os_error

    @property
    def host(self) -> str:
        """The host the connection was for."""
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        """The port the connection was for."""
        return self._conn_key.port

    @property
    def ssl(self) -> object:
        """The ``ssl`` setting of the request (True, False, a context or a Fingerprint)."""
        return self._conn_key.ssl

    def __str__(self) -> str:
        ssl_text = "default" if self.ssl is True else self.ssl
        return f"Cannot connect to host {self.host}:{self.port} ssl:{ssl_text} [{self.strerror}]"

    # OSError's pickling would call __init__ with (errno, strerror).
    __reduce__ = BaseException.__reduce__


class ClientConnectorDNSError(ClientConnectorError):
    """The host name could not be resolved."""


class ClientProxyConnectionError(ClientConnectorError):
    """The connection to the proxy could not be opened."""


class UnixClientConnectorError(ClientConnectorError):
    """The connection to a Unix socket could not be opened.

    Args:
        path: the socket's path.
        connection_key: the :class:`ConnectionKey` of the attempted connection.
        os_error: the underlying error.
    """

    def __init__(self, path: str, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._path = path
        super().__init__(connection_key, os_error)

    @property
    def path(self) -> str:
        """The Unix socket path."""
        return self._path

    def __str__(self) -> str:
        ssl_text = "default" if self.ssl is True else self.ssl
        return f"Cannot connect to unix socket {self.path} ssl:{ssl_text} [{self.strerror}]"


class ClientSSLError(ClientConnectorError):
    """Base class of the TLS errors of a connection attempt."""


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS handshake failed (protocol or configuration error)."""


class ClientConnectorCertificateError(ClientSSLError, ssl.CertificateError):
    """The server's certificate did not verify.

    Args:
        connection_key: the :class:`ConnectionKey` of the attempted connection.
        certificate_error: the verification error.
    """

    def __init__(self, connection_key: ConnectionKey, certificate_error: Exception) -> None:
        self._conn_key = connection_key
        self._certificate_error = certificate_error
        self.args = (connection_key, certificate_error)

    @property
    def certificate_error(self) -> Exception:
        """The verification error."""
        return self._certificate_error

    @property
    def host(self) -> str:
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        return self._conn_key.port

    @property
    def ssl(self) -> bool:  # aiohttp reports is_ssl here
        """True: the connection was a TLS one."""
        return self._conn_key.is_ssl

    def __str__(self) -> str:
        error = self.certificate_error
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self.ssl} "
            f"[{error.__class__.__name__}: {error.args}]"
        )


class ServerConnectionError(ClientConnectionError):
    """Base class of the errors caused by the server's side of the connection."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before the response was complete.

    Args:
        message: what was left unfinished; "Server disconnected" by default.
    """

    def __init__(self, message: object = None) -> None:
        if message is None:
            message = "Server disconnected"
        self.args = (message,)
        self.message = message


class ServerTimeoutError(ServerConnectionError, asyncio.TimeoutError):
    """A timeout on the server's side (connect or read)."""


class ConnectionTimeoutError(ServerTimeoutError):
    """The connection could not be opened within ``connect`` / ``sock_connect``."""


class SocketTimeoutError(ServerTimeoutError):
    """No data arrived from the server within ``sock_read``."""


class ServerFingerprintMismatch(ServerConnectionError):
    """The server certificate's SHA-256 digest is not the pinned one.

    Args:
        expected: the pinned digest.
        got: the digest of the certificate the server presented.
        host: the server's host.
        port: the server's port.
    """

    def __init__(self, expected: bytes, got: bytes, host: str, port: int | None) -> None:
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        self.args = (expected, got, host, port)

    def __repr__(self) -> str:
        return (
            f"<{self.__class__.__name__} expected={self.expected!r} got={self.got!r} "
            f"host={self.host!r} port={self.port!r}>"
        )


class ClientPayloadError(ClientError):
    """The response body is malformed, truncated or could not be decoded."""


class UploadAbortedError(ClientError):
    """The request body was not fully sent (see :class:`~aioloom.client.UploadTracker`).

    Set on ``UploadTracker.upload_complete`` when the request ended with its body never
    sent or cut short (cancelled, the connection closed, the response released early).
    """


class InvalidURL(ClientError, ValueError):
    """A URL the client cannot use.

    Args:
        url: the URL (string or :class:`yarl.URL`).
        description: why it cannot be used.
    """

    def __init__(self, url: Any, description: str | None = None) -> None:
        self._url = url
        self._description = description
        if description:
            super().__init__(url, description)
        else:
            super().__init__(url)

    @property
    def url(self) -> Any:
        """The offending URL."""
        return self._url

    @property
    def description(self) -> str | None:
        """Why the URL cannot be used, when known."""
        return self._description

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} {self}>"

    def __str__(self) -> str:
        if self._description:
            return f"{self._url} - {self._description}"
        return str(self._url)


class InvalidUrlClientError(InvalidURL):
    """A request URL the client cannot use (not absolute, bad characters ...)."""


class RedirectClientError(ClientError):
    """Base class of the errors in following a redirect."""


class NonHttpUrlClientError(ClientError):
    """A request URL whose scheme is not http or https."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """A redirect to a Location that is not a usable URL."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """A redirect to a Location whose scheme is not http or https."""


class WSMessageTypeError(TypeError):
    """A WebSocket message is not of the type the caller asked for."""
