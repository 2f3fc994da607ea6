"""Static files over real sockets: traversal attempts (all the same 404), symlinks,
precompressed siblings, index pages, ``append_version``.

The tree every test serves (``/static`` -> ``root``)::

    tmp/
      root/  hello.txt  sub/inner.txt  <b>&"'.txt  page.txt
             page.txt.gz -> ../outside/secret.gz   (a sibling escaping the root)
             link_in -> hello.txt                  link_out -> ../outside/secret.txt
             link_dead -> ../outside/missing.txt   dir_out -> ../outside
      outside/  secret.txt  secret.gz
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aioloom.web._app import Application
from aioloom.web._static import StaticResource

SECRET = b"TOP SECRET"
WEIRD = "<b>&\"'.txt"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "secret.gz").write_bytes(gzip.compress(SECRET))
    (root / "hello.txt").write_bytes(b"hello")
    (root / "sub" / "inner.txt").write_bytes(b"inner")
    (root / WEIRD).write_bytes(b"weird")
    (root / "page.txt").write_bytes(b"page")
    (root / "page.txt.gz").symlink_to(outside / "secret.gz")
    (root / "link_in").symlink_to(root / "hello.txt")
    (root / "link_out").symlink_to(outside / "secret.txt")
    (root / "link_dead").symlink_to(outside / "missing.txt")
    (root / "dir_out").symlink_to(outside)
    return tmp_path


@pytest.fixture
def serve_static(loop: asyncio.AbstractEventLoop, tree: Path) -> Any:
    @contextlib.asynccontextmanager
    async def factory(**options: Any) -> AsyncIterator[int]:
        app = Application()
        app.router.add_static("/static/", tree / "root", name="static", **options)
        await app.startup()
        server = app._make_handler()
        listener = await loop.create_server(server, "127.0.0.1", 0)
        try:
            yield listener.sockets[0].getsockname()[1]
        finally:
            listener.close()
            await server.shutdown(0.5)
            await listener.wait_closed()

    return factory


@pytest.fixture
def fetch(client_exchange: Any, h11_parse: Any) -> Any:
    async def do(port: int, target: str, method: str = "GET", headers: str = "") -> Any:
        data = await client_exchange(
            port,
            (
                f"{method} {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n{headers}\r\n"
            ).encode(),
        )
        answers = h11_parse(data, [method])
        assert len(answers) == 1, data
        return answers[0]

    return do


def comparable(answer: Any) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """An answer without its Date header, for byte-for-byte comparison of 404s."""
    headers = [(k, v) for k, v in answer.raw_headers if k.lower() != b"date"]
    return answer.status, answer.body, headers


async def test_files_are_served(serve_static: Any, fetch: Any) -> None:
    async with serve_static() as port:
        hello = await fetch(port, "/static/hello.txt")
        assert (hello.status, hello.body) == (200, b"hello")
        assert hello.header("Content-Type") == "text/plain; charset=utf-8"
        assert (await fetch(port, "/static/sub/inner.txt")).body == b"inner"
        assert (await fetch(port, "/static/%3Cb%3E%26%22'.txt")).body == b"weird"
        assert (await fetch(port, "/static/link_in")).body == b"hello"  # stays inside
        head = await fetch(port, "/static/hello.txt", "HEAD")
        assert (head.status, head.body, head.header("Content-Length")) == (200, b"", "5")


TRAVERSALS = [
    "/static/../outside/{name}",
    "/static/sub/../../outside/{name}",
    "/static/%2e%2e/outside/{name}",
    "/static/%2E%2E/outside/{name}",
    "/static/..%2Foutside%2F{name}",
    "/static/..%2foutside%2f{name}",
    "/static/%2e%2e%2foutside%2f{name}",
    "/static/sub%2F..%2F..%2Foutside%2F{name}",
    "/static/..%5Coutside%5C{name}",
    "/static/%5C..%5Coutside%5C{name}",
    "/static/sub%5C..%5C..%5Coutside%5C{name}",
    "/static/%00../outside/{name}",
    "/static/{name}%00",
    "/static/..%00/outside/{name}",
    "/static//{abs}/outside/{name}",
    "/static/%2F{abs}/outside/{name}",
    "/static/%2f{abs_enc}%2foutside%2f{name}",
    "/static/dir_out/{name}",
    "/static/dir_out/sub/../{name}",
]


@pytest.mark.parametrize("template", TRAVERSALS)
async def test_traversal_attempts_get_the_same_404(
    serve_static: Any, fetch: Any, tree: Path, template: str
) -> None:
    abs_path = str(tree).lstrip("/")
    values = {"abs": abs_path, "abs_enc": abs_path.replace("/", "%2f")}
    async with serve_static() as port:
        reference = comparable(await fetch(port, "/static/no-such-file.txt"))
        assert reference[0] == 404
        existing = await fetch(port, template.format(name="secret.txt", **values))
        missing = await fetch(port, template.format(name="missing.txt", **values))
        assert SECRET not in existing.body
        assert comparable(existing) == reference
        assert comparable(missing) == reference


@pytest.mark.parametrize("target", ["/static/link_out", "/static/link_dead"])
async def test_symlinks_out_of_the_root_get_the_same_404(
    serve_static: Any, fetch: Any, target: str
) -> None:
    async with serve_static() as port:
        reference = comparable(await fetch(port, "/static/no-such-file.txt"))
        answer = await fetch(port, target)
        assert SECRET not in answer.body
        assert comparable(answer) == reference


async def test_symlinked_precompressed_sibling_is_never_sent(serve_static: Any, fetch: Any) -> None:
    async with serve_static() as port:
        answer = await fetch(port, "/static/page.txt", headers="Accept-Encoding: gzip\r\n")
        assert (answer.status, answer.body) == (200, b"page")
        assert answer.header("Content-Encoding") is None
        assert (await fetch(port, "/static/page.txt.gz")).status == 404


async def test_regular_precompressed_sibling_is_used(
    serve_static: Any, fetch: Any, tree: Path
) -> None:
    (tree / "root" / "hello.txt.gz").write_bytes(gzip.compress(b"hello"))
    async with serve_static() as port:
        answer = await fetch(port, "/static/hello.txt", headers="Accept-Encoding: gzip\r\n")
        assert answer.header("Content-Encoding") == "gzip"
        assert gzip.decompress(answer.body) == b"hello"


async def test_follow_symlinks_allows_links_but_not_dot_dot(serve_static: Any, fetch: Any) -> None:
    async with serve_static(follow_symlinks=True) as port:
        linked = await fetch(port, "/static/link_out")
        assert (linked.status, linked.body) == (200, SECRET)
        assert (await fetch(port, "/static/dir_out/secret.txt")).body == SECRET
        assert (await fetch(port, "/static/../outside/secret.txt")).status == 404
        assert (await fetch(port, "/static/..%2Foutside%2Fsecret.txt")).status == 404
        assert (await fetch(port, "/static/link_dead")).status == 404


async def test_directories_are_forbidden_without_index(serve_static: Any, fetch: Any) -> None:
    async with serve_static() as port:
        assert (await fetch(port, "/static/sub")).status == 403
        assert (await fetch(port, "/static/")).status == 403
        assert (await fetch(port, "/static")).status == 403


async def test_index_page_escapes_names(serve_static: Any, fetch: Any) -> None:
    async with serve_static(show_index=True) as port:
        page = await fetch(port, "/static/")
        assert page.status == 200
        assert page.header("Content-Type") == "text/html; charset=utf-8"
        body = page.body.decode()
        assert "<title>Index of /</title>" in body
        assert "&lt;b&gt;&amp;&quot;&#x27;.txt" in body
        assert "<b>" not in body
        assert '<a href="/static/%3Cb%3E&amp;%22\'.txt">' in body or (
            '<a href="/static/%3Cb%3E&amp;%22&#x27;.txt">' in body
        )
        assert '<a href="/static/sub">sub/</a>' in body
        assert '<a href="/static/hello.txt">hello.txt</a>' in body
        inner = (await fetch(port, "/static/sub/")).body.decode()
        assert "<h1>Index of /sub</h1>" in inner
        assert '<a href="/static/sub/inner.txt">inner.txt</a>' in inner


async def test_methods_and_options_route(
    serve_static: Any, fetch: Any, tree: Path, loop: asyncio.AbstractEventLoop
) -> None:
    async with serve_static() as port:
        answer = await fetch(port, "/static/hello.txt", "POST")
        assert answer.status == 405
        assert answer.header("Allow") == "GET,HEAD"

    async def options(request: Any) -> Any:
        from aioloom.web._response import Response

        return Response(text="options", headers={"Access-Control-Allow-Origin": "*"})

    app = Application()
    resource = app.router.add_static("/s", tree / "root")
    resource.set_options_route(options)
    with pytest.raises(RuntimeError, match="OPTIONS route was set already"):
        resource.set_options_route(options)
    await app.startup()
    server = app._make_handler()
    listener = await loop.create_server(server, "127.0.0.1", 0)
    try:
        answer = await fetch(listener.sockets[0].getsockname()[1], "/s/anything", "OPTIONS")
        assert (answer.status, answer.body) == (200, b"options")
    finally:
        listener.close()
        await server.shutdown(0.5)


# -- url_for and append_version -------------------------------------------------------------


def sha(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()


def test_url_for_and_versions(tree: Path) -> None:
    resource = StaticResource("/static", tree / "root", append_version=True)
    versioned = resource.url_for(filename="hello.txt")
    assert versioned.path == "/static/hello.txt"
    assert versioned.query["v"] == sha(b"hello")
    plain = resource.url_for(filename="/sub/inner.txt", append_version=False)
    assert str(plain) == "/static/sub/inner.txt"
    assert str(resource.url_for(filename=Path(WEIRD), append_version=False)) == (
        "/static/%3Cb%3E&%22'.txt"
    )
    # No version for what is missing, outside, a directory, or reached through ".."
    for name in ("missing.txt", "link_out", "sub", "../outside/secret.txt", "a\\b"):
        url = resource.url_for(filename=name)
        assert "v" not in url.query, name


def test_version_hash_is_cached_by_mtime_and_size(tree: Path) -> None:
    path = tree / "root" / "hello.txt"
    resource = StaticResource("/static", tree / "root", append_version=True)
    first = resource.url_for(filename="hello.txt").query["v"]
    st = path.stat()
    path.write_bytes(b"HELLO")  # same size...
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # ...and same mtime: cached
    assert resource.url_for(filename="hello.txt").query["v"] == first
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert resource.url_for(filename="hello.txt").query["v"] == sha(b"HELLO")


def test_static_resource_validation_and_info(tree: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        StaticResource("/s", tree / "nope")
    with pytest.raises(ValueError, match="is not a directory"):
        StaticResource("/s", tree / "root" / "hello.txt")
    resource = StaticResource("/s", tree / "root", name="files")
    info = resource.get_info()
    assert info["directory"] == (tree / "root").resolve()
    assert info["prefix"] == "/s"
    assert set(info["routes"]) == {"GET", "HEAD"}
    assert len(resource) == 2
    assert repr(resource).startswith("<StaticResource 'files' /s -> ")
    assert resource.canonical == "/s"


async def test_static_under_a_subapp_prefix(
    loop: asyncio.AbstractEventLoop, tree: Path, fetch: Any
) -> None:
    sub = Application()
    resource = sub.router.add_static("/files", tree / "root")
    app = Application()
    app.add_subapp("/sub", sub)
    assert str(resource.url_for(filename="hello.txt")) == "/sub/files/hello.txt"
    await app.startup()
    server = app._make_handler()
    listener = await loop.create_server(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        assert (await fetch(port, "/sub/files/hello.txt")).body == b"hello"
        assert (await fetch(port, "/sub/files/../../outside/secret.txt")).status == 404
    finally:
        listener.close()
        await server.shutdown(0.5)
