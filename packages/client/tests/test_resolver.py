"""Resolvers and the DNS cache."""

from __future__ import annotations

import socket
import sys
import time
import types

import pytest

from aioloom.client._resolver import (
    AsyncResolver,
    DefaultResolver,
    DNSCache,
    ResolveResult,
    ThreadedResolver,
)


async def test_threaded_resolver_resolves_localhost() -> None:
    resolver = ThreadedResolver()
    hosts = await resolver.resolve("localhost", 8080, family=socket.AF_INET)
    assert hosts
    assert all(h["hostname"] == "localhost" for h in hosts)
    assert all(h["port"] == 8080 for h in hosts)
    assert any(h["host"] == "127.0.0.1" for h in hosts)
    assert all(h["family"] == socket.AF_INET for h in hosts)
    assert all(h["flags"] == socket.NI_NUMERICHOST | socket.NI_NUMERICSERV for h in hosts)
    await resolver.close()


async def test_threaded_resolver_numeric_ipv6() -> None:
    resolver = ThreadedResolver()
    try:
        hosts = await resolver.resolve("::1", 80, family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 on this host")
    assert hosts[0]["host"] == "::1"
    assert hosts[0]["family"] == socket.AF_INET6


async def test_threaded_resolver_failure_is_os_error() -> None:
    resolver = ThreadedResolver()
    with pytest.raises(OSError):
        await resolver.resolve("not a host name", 80)


def test_default_resolver_is_threaded() -> None:
    assert DefaultResolver is ThreadedResolver


async def test_async_resolver_without_aiodns_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "aiodns", None)
    with pytest.raises(ImportError, match=r'pip install "aioloom-client\[speedups\]"'):
        AsyncResolver()


def result(host: str) -> ResolveResult:
    return ResolveResult(hostname="h", host=host, port=80, family=socket.AF_INET, proto=0, flags=0)


def test_dns_cache_round_robin_and_ttl(monkeypatch) -> None:
    cache = DNSCache(ttl=10)
    key = ("h", 80)
    assert key not in cache
    cache.add(key, [result("a"), result("b"), result("c")])
    assert key in cache
    firsts = [cache.next_addrs(key)[0]["host"] for _ in range(4)]
    assert firsts == ["a", "b", "c", "a"]
    assert not cache.expired(key)
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 11)
    assert cache.expired(key)
    cache.remove(key)
    assert key not in cache
    cache.remove(key)  # absent keys are fine


def test_dns_cache_without_ttl_never_expires() -> None:
    cache = DNSCache(ttl=None)
    cache.add(("h", 1), [result("a")])
    assert not cache.expired(("h", 1))
    cache.clear()
    assert ("h", 1) not in cache


class FakeDNSError(Exception):
    pass


class FakeNode:
    def __init__(self, family: int, addr: tuple) -> None:  # type: ignore[type-arg]
        self.family = family
        self.addr = addr


class FakeDNSResolver:
    """Stands in for aiodns.DNSResolver (aiodns is an optional extra)."""

    def __init__(self, *args, **kwargs) -> None:
        self.args = args
        self.kwargs = kwargs
        self.cancelled = False

    async def getaddrinfo(self, host, port=0, type=0, family=0, flags=0):
        if host == "fail.test":
            raise FakeDNSError(4, "Domain name not found")
        if host == "empty.test":
            return types.SimpleNamespace(nodes=[])
        return types.SimpleNamespace(
            nodes=[
                FakeNode(socket.AF_INET, (b"10.0.0.1", port)),
                FakeNode(socket.AF_INET6, (b"fe80::1", port, 0, 3)),
            ]
        )

    async def getnameinfo(self, sockaddr, flags):
        return types.SimpleNamespace(node="fe80::1%eth0", service=str(sockaddr[1]))

    def cancel(self) -> None:
        self.cancelled = True


@pytest.fixture
def fake_aiodns(monkeypatch):
    module = types.ModuleType("aiodns")
    module.DNSResolver = FakeDNSResolver  # type: ignore[attr-defined]
    module.error = types.SimpleNamespace(DNSError=FakeDNSError)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "aiodns", module)
    return module


async def test_async_resolver_with_aiodns(fake_aiodns) -> None:
    resolver = AsyncResolver(nameservers=["127.0.0.53"])
    assert resolver._resolver.kwargs == {"nameservers": ["127.0.0.53"]}
    hosts = await resolver.resolve("example.test", 443)
    assert [h["host"] for h in hosts] == ["10.0.0.1", "fe80::1%eth0"]
    assert all(h["port"] == 443 and h["hostname"] == "example.test" for h in hosts)
    assert hosts[1]["family"] == socket.AF_INET6
    with pytest.raises(OSError, match="Domain name not found"):
        await resolver.resolve("fail.test")
    with pytest.raises(OSError, match="DNS lookup failed"):
        await resolver.resolve("empty.test")
    await resolver.close()
    assert resolver._resolver.cancelled
