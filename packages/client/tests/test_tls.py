"""TLS with certificates from trustme: verification by default, custom contexts,
ssl=False, fingerprint pinning, server_hostname, ALPN, and the error mapping."""

from __future__ import annotations

import hashlib
import ssl

import pytest

from aioloom.client._exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientSSLError,
    ServerFingerprintMismatch,
)
from aioloom.client._fingerprint import (
    Fingerprint,
    check_ssl_arg,
    default_ssl_context,
    ssl_context_for,
    unverified_ssl_context,
)
from aioloom.client._session import ClientSession
from aioloom.client._tcp import TCPConnector

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure"


async def test_verified_with_a_trusted_context(serve, handler_for, server_ssl_ctx, client_ssl_ctx):
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as srv:
        async with ClientSession() as session:
            for _ in range(2):
                async with session.get(srv.url(), ssl=client_ssl_ctx) as resp:
                    assert await resp.read() == b"secure"
                assert pooled_transport(session).get_extra_info("ssl_object") is not None
    assert srv.connections == 1  # TLS connections are pooled too


def pooled_transport(session: ClientSession):
    """The transport of the one connection idle in the session's pool."""
    connector = session.connector
    assert connector is not None
    (entries,) = connector._conns.values()
    (protocol, _), *_ = entries
    assert protocol.transport is not None
    return protocol.transport


async def test_context_on_the_connector(serve, handler_for, server_ssl_ctx, client_ssl_ctx):
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as srv:
        async with ClientSession(connector=TCPConnector(ssl=client_ssl_ctx)) as session:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"secure"


async def test_verification_is_on_by_default(serve, handler_for, server_ssl_ctx) -> None:
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as srv:
        async with ClientSession() as session:
            with pytest.raises(ClientConnectorCertificateError) as info:
                await session.get(srv.url())
    error = info.value
    assert isinstance(error, ClientSSLError)
    assert isinstance(error, ClientConnectorError)
    assert isinstance(error, ssl.CertificateError)
    assert isinstance(error.certificate_error, ssl.SSLCertVerificationError)
    assert error.host == "127.0.0.1"
    assert error.port == srv.port
    assert error.ssl is True
    assert "Cannot connect to host 127.0.0.1" in str(error)
    assert "SSLCertVerificationError" in str(error)


async def test_ssl_false_skips_verification(serve, handler_for, server_ssl_ctx) -> None:
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as srv:
        async with ClientSession() as session:
            async with session.get(srv.url(), ssl=False) as resp:
                assert await resp.read() == b"secure"
        async with ClientSession(connector=TCPConnector(ssl=False)) as session:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"secure"


async def test_wrong_host_name_fails_and_server_hostname_fixes_it(
    serve, handler_for, tls_ca, client_ssl_ctx
) -> None:
    other = tls_ca.issue_cert("other.example")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.configure_cert(ctx)
    async with serve(handler_for(lambda r: OK), ssl_context=ctx) as srv:
        async with ClientSession() as session:
            with pytest.raises(ClientConnectorCertificateError):
                await session.get(srv.url(), ssl=client_ssl_ctx)
            async with session.get(
                srv.url(), ssl=client_ssl_ctx, server_hostname="other.example"
            ) as resp:
                assert await resp.read() == b"secure"


async def test_fingerprint_pinning(serve, handler_for, server_ssl_ctx, tls_cert) -> None:
    der = ssl.PEM_cert_to_DER_cert(tls_cert.cert_chain_pems[0].bytes().decode())
    good = Fingerprint(hashlib.sha256(der).digest())
    bad = Fingerprint(hashlib.sha256(b"something else").digest())
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as srv:
        async with ClientSession() as session:
            async with session.get(srv.url(), ssl=good) as resp:
                assert await resp.read() == b"secure"
            with pytest.raises(ServerFingerprintMismatch) as info:
                await session.get(srv.url(), ssl=bad)
        async with ClientSession(connector=TCPConnector(ssl=good)) as session:
            async with session.get(srv.url()) as resp:
                assert await resp.read() == b"secure"
    assert info.value.expected == bad.fingerprint
    assert info.value.got == good.fingerprint
    assert info.value.host == "127.0.0.1"
    assert repr(info.value).startswith("<ServerFingerprintMismatch expected=")


async def test_tls_protocol_error_is_ssl_error(serve) -> None:
    async def garbage(conn) -> None:
        await conn.reader.read(10)
        conn.write(b"HTTP/1.1 400 this is not TLS\r\n\r\n")
        await conn.writer.drain()

    async with serve(garbage) as srv, ClientSession() as session:
        with pytest.raises(ClientConnectorSSLError) as info:
            await session.get(srv.url().with_scheme("https"))
    assert isinstance(info.value, ssl.SSLError)
    assert isinstance(info.value, ClientSSLError)


async def test_alpn_http11_is_negotiated(serve, handler_for, server_ssl_ctx, tls_ca) -> None:
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as srv:
        async with ClientSession() as session:
            async with session.get(srv.url(), ssl=False) as resp:
                await resp.read()
            ssl_object = pooled_transport(session).get_extra_info("ssl_object")
            assert ssl_object.selected_alpn_protocol() == "http/1.1"


def test_fingerprint_validation() -> None:
    with pytest.raises(ValueError, match="insecure"):
        Fingerprint(hashlib.md5(b"x").digest())
    with pytest.raises(ValueError, match="insecure"):
        Fingerprint(hashlib.sha1(b"x").digest())
    with pytest.raises(ValueError, match="invalid length"):
        Fingerprint(b"short")
    digest = hashlib.sha256(b"x").digest()
    assert Fingerprint(digest) == Fingerprint(digest)
    assert hash(Fingerprint(digest)) == hash(Fingerprint(digest))
    assert Fingerprint(digest).fingerprint == digest
    assert digest.hex() in repr(Fingerprint(digest))


def test_ssl_arg_and_context_selection() -> None:
    fp = Fingerprint(hashlib.sha256(b"x").digest())
    custom = ssl.create_default_context()
    assert check_ssl_arg(None) is True
    assert check_ssl_arg(False) is False
    assert check_ssl_arg(fp) is fp
    with pytest.raises(TypeError, match="ssl should be SSLContext"):
        check_ssl_arg("yes")
    assert ssl_context_for(True, True) is default_ssl_context()
    assert ssl_context_for(True, custom) is custom
    assert ssl_context_for(custom, False) is custom
    assert ssl_context_for(False, True) is unverified_ssl_context()
    assert ssl_context_for(fp, True) is unverified_ssl_context()
    assert default_ssl_context().verify_mode == ssl.CERT_REQUIRED
    assert unverified_ssl_context().verify_mode == ssl.CERT_NONE
    assert not unverified_ssl_context().check_hostname


async def test_bad_ssl_argument_is_refused_before_connecting() -> None:
    async with ClientSession() as session:
        with pytest.raises(TypeError):
            await session.get("https://127.0.0.1:1/", ssl="no")  # type: ignore[arg-type]


async def test_connector_close_can_abort_tls(serve, handler_for, server_ssl_ctx) -> None:
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as srv:
        connector = TCPConnector(ssl=False)
        session = ClientSession(connector=connector)
        async with session.get(srv.url()) as resp:
            await resp.read()
        transport = pooled_transport(session)
        await session.close()  # closes gracefully
        assert transport.is_closing()
        connector2 = TCPConnector(ssl=False)
        async with ClientSession(connector=connector2, connector_owner=False) as session2:
            async with session2.get(srv.url()) as resp:
                await resp.read()
            transport2 = pooled_transport(session2)
        await connector2.close(abort_ssl=True)
        assert transport2.is_closing()
