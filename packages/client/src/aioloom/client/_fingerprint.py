"""TLS settings of a request: certificate pinning (:class:`Fingerprint`) and SSL contexts.

A request's ``ssl`` argument is one of:

* ``True`` (default): verify the server with the system's trust store;
* ``False``: encrypt but do not verify (no certificate or host name check);
* an :class:`ssl.SSLContext`: used as it is;
* a :class:`Fingerprint`: do not verify the chain, but require the server certificate's
  SHA-256 digest to be the pinned one (:class:`ServerFingerprintMismatch` otherwise).

The contexts built here advertise ALPN ``http/1.1`` (RFC 7301), since HTTP/1.1 is the only
protocol this client speaks, and are created once per process.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ssl
from typing import Final, TypeAlias

from ._exceptions import ServerFingerprintMismatch

__all__ = (
    "Fingerprint",
    "SSLArg",
    "check_ssl_arg",
    "default_ssl_context",
    "fingerprint_of",
    "ssl_context_for",
    "unverified_ssl_context",
)

# Digest sizes of the hashes aiohttp refuses (md5, sha1) and the one it uses (sha256).
_INSECURE_DIGEST_SIZES: Final = {16: "md5", 20: "sha1"}
_SHA256_SIZE: Final = 32
_ALPN: Final = ["http/1.1"]


class Fingerprint:
    """A pinned server certificate: the SHA-256 digest of its DER encoding.

    Args:
        fingerprint: the 32-byte digest, e.g. ``hashlib.sha256(der_cert).digest()``.

    Raises:
        ValueError: the digest is an MD5 or SHA-1 one (insecure), or of no known size.
    """

    __slots__ = ("_fingerprint", "_hashfunc")

    def __init__(self, fingerprint: bytes) -> None:
        size = len(fingerprint)
        if size in _INSECURE_DIGEST_SIZES:
            raise ValueError("md5 and sha1 are insecure and not supported. Use sha256.")
        if size != _SHA256_SIZE:
            raise ValueError("fingerprint has invalid length")
        self._hashfunc = hashlib.sha256
        self._fingerprint = fingerprint

    @property
    def fingerprint(self) -> bytes:
        """The pinned digest."""
        return self._fingerprint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and other._fingerprint == self._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __repr__(self) -> str:
        return f"<Fingerprint {self._fingerprint.hex()}>"

    def check(self, transport: asyncio.BaseTransport) -> None:
        """Compare the server certificate of ``transport`` with the pinned digest.

        A transport without TLS passes (there is no certificate to pin).

        Raises:
            ServerFingerprintMismatch: the digests differ (the transport is closed first).
        """
        sslobj = transport.get_extra_info("ssl_object")
        if sslobj is None:
            return
        cert = sslobj.getpeercert(binary_form=True)
        got = self._hashfunc(cert or b"").digest()
        if got != self._fingerprint:
            host, port, *_ = transport.get_extra_info("peername") or ("", None)
            transport.close()
            raise ServerFingerprintMismatch(self._fingerprint, got, host, port)


SSLArg: TypeAlias = "ssl.SSLContext | bool | Fingerprint"


def check_ssl_arg(value: object) -> SSLArg:
    """Validate a request's ``ssl`` argument (None means the default, True).

    Raises:
        TypeError: anything but True, False, None, an SSLContext or a Fingerprint.
    """
    if value is None:
        return True
    if isinstance(value, (bool, ssl.SSLContext, Fingerprint)):
        return value
    raise TypeError(
        "ssl should be SSLContext, Fingerprint, or bool, "
        f"got {value!r} instead."  # aiohttp's message
    )


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """The verifying context used for ``ssl=True`` (built once)."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(_ALPN)
    return context


@functools.cache
def unverified_ssl_context() -> ssl.SSLContext:
    """The context used for ``ssl=False`` and fingerprint pinning (built once)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.options |= ssl.OP_NO_COMPRESSION  # CRIME (CVE-2012-4929)
    context.set_alpn_protocols(_ALPN)
    return context


def ssl_context_for(
    request_ssl: SSLArg,
    connector_ssl: SSLArg,
) -> ssl.SSLContext:
    """Pick the context of an https connection.

    The request's own setting wins unless it is the default ``True``, in which case the
    connector's setting applies.
    """
    setting = connector_ssl if request_ssl is True else request_ssl
    if isinstance(setting, ssl.SSLContext):
        return setting
    if setting is True:
        return default_ssl_context()
    return unverified_ssl_context()  # False or a Fingerprint


def fingerprint_of(
    request_ssl: SSLArg,
    connector_ssl: SSLArg,
) -> Fingerprint | None:
    """The pinned fingerprint that applies to a connection, if any."""
    if isinstance(request_ssl, Fingerprint):
        return request_ssl
    if request_ssl is True and isinstance(connector_ssl, Fingerprint):
        return connector_ssl
    return None
