"""The demo application (examples/demo): every route, through the aioloom client."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from aioloom.client import ClientSession
from aioloom.multipart import FormData
from aioloom.testing import AioloomClient, TestClient, unused_port
from aioloom.web import WSMsgType

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"


def _load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aioloom_demo_app", DEMO / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


@pytest.fixture
async def client(aioloom_client: AioloomClient) -> TestClient:
    return await aioloom_client(demo.make_app())


# --- the JSON API ---------------------------------------------------------------------------


async def test_notes_create_list_get_delete(client: TestClient) -> None:
    async with client.get("/api/notes") as resp:
        assert resp.status == 200
        assert await resp.json() == []

    async with client.post("/api/notes", json={"title": " first ", "body": "hello"}) as resp:
        assert resp.status == 201
        created = await resp.json()
    assert created["title"] == "first" and created["body"] == "hello"
    assert resp.headers["Location"] == f"/api/notes/{created['id']}"
    async with client.post("/api/notes", json={"title": "second"}) as resp:
        assert resp.status == 201
        second = await resp.json()
    assert second["id"] != created["id"] and second["body"] == ""

    async with client.get("/api/notes") as resp:
        assert [n["title"] for n in await resp.json()] == ["first", "second"]
    async with client.get(f"/api/notes/{created['id']}") as resp:
        assert resp.status == 200
        assert await resp.json() == created

    async with client.delete(f"/api/notes/{created['id']}") as resp:
        assert resp.status == 204
    async with client.get(f"/api/notes/{created['id']}") as resp:
        assert resp.status == 404
    async with client.get("/api/notes") as resp:
        assert [n["id"] for n in await resp.json()] == [second["id"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/notes/42"),
        ("DELETE", "/api/notes/42"),
        ("GET", "/api/notes/not-a-number"),
        ("GET", "/no/such/route"),
    ],
)
async def test_not_found_is_json(client: TestClient, method: str, path: str) -> None:
    async with client.request(method, path) as resp:
        assert resp.status == 404
        assert resp.content_type == "application/json"
        body = await resp.json()
    assert body["error"]["status"] == 404


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[1, 2]", b'{"body": "no title"}', b'{"title": "  "}', b'{"title": 1}'],
)
async def test_create_rejects_bad_bodies(client: TestClient, payload: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    async with client.post("/api/notes", data=payload, headers=headers) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["status"] == 400
    async with client.get("/api/notes") as resp:
        assert await resp.json() == []


async def test_wrong_method_is_json_405(client: TestClient) -> None:
    async with client.put("/api/notes") as resp:
        assert resp.status == 405
        assert (await resp.json())["error"]["status"] == 405


# --- the middleware -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/notes", "/", "/static/app.js", "/api/notes/7"])
async def test_middleware_headers(client: TestClient, path: str) -> None:
    async with client.get(path) as first, client.get(path) as second:
        ids = {first.headers["X-Request-Id"], second.headers["X-Request-Id"]}
        assert len(ids) == 2 and all(len(i) == 32 for i in ids)
        assert first.headers["X-Response-Time"].endswith("ms")
        float(first.headers["X-Response-Time"].removesuffix("ms"))


async def test_middleware_keeps_a_given_request_id(client: TestClient) -> None:
    async with client.get("/api/notes", headers={"X-Request-Id": "abc-123"}) as resp:
        assert resp.headers["X-Request-Id"] == "abc-123"


async def test_middleware_turns_crashes_into_json_500(aioloom_client: AioloomClient) -> None:
    app = demo.make_app()

    async def boom(request: Any) -> Any:
        raise RuntimeError("boom")

    app.router.add_get("/boom", boom)
    client = await aioloom_client(app)
    async with client.get("/boom") as resp:
        assert resp.status == 500
        assert await resp.json() == {"error": {"status": 500, "message": "Internal Server Error"}}
        assert "X-Request-Id" in resp.headers


# --- the page -------------------------------------------------------------------------------


async def test_index_and_static_files(client: TestClient) -> None:
    async with client.get("/") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        page = await resp.text()
    assert page == (DEMO / "static" / "index.html").read_text()
    assert '<script src="/static/app.js">' in page
    async with client.get("/static/app.js") as resp:
        assert resp.status == 200
        assert "javascript" in resp.content_type
        assert await resp.read() == (DEMO / "static" / "app.js").read_bytes()
    async with client.get("/static/style.css") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/css"


# --- the chat -------------------------------------------------------------------------------


async def _event(ws: Any) -> dict[str, str]:
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type is WSMsgType.TEXT, msg
    event: dict[str, str] = json.loads(msg.data)
    return event


async def test_chat_broadcasts_to_every_client(client: TestClient) -> None:
    async with client.ws_connect("/ws/chat?name=alice") as alice:
        assert await _event(alice) == {"type": "join", "name": "alice", "text": ""}
        async with client.ws_connect("/ws/chat", params={"name": "<b>bob</b>"}) as bob:
            joined = {"type": "join", "name": "<b>bob</b>", "text": ""}
            assert await _event(alice) == joined
            assert await _event(bob) == joined

            await alice.send_str("hi <all>")
            said = {"type": "message", "name": "alice", "text": "hi <all>"}
            assert await _event(alice) == said
            assert await _event(bob) == said

            await bob.send_str("hello")
            said = {"type": "message", "name": "<b>bob</b>", "text": "hello"}
            assert await _event(bob) == said
            assert await _event(alice) == said
        assert await _event(alice) == {"type": "leave", "name": "<b>bob</b>", "text": ""}
    assert not client.app[demo.CHAT]  # type: ignore[index]


async def test_chat_page_escapes_names() -> None:
    script = (DEMO / "static" / "app.js").read_text()
    assert "escapeHtml(event.name)" in script
    assert "innerHTML = `<span" in script and "${name}" in script


# --- download and upload --------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 64, 65536, 1_000_003])
async def test_download_streams_generated_bytes(client: TestClient, size: int) -> None:
    async with client.get("/download", params={"size": str(size)}) as resp:
        assert resp.status == 200
        assert resp.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in resp.headers
        assert "attachment" in resp.headers["Content-Disposition"]
        assert "X-Request-Id" in resp.headers
        body = await resp.read()
    block = demo.DOWNLOAD_BLOCK
    assert len(body) == size
    assert body == (block * (size // len(block) + 1))[:size]


async def test_download_default_size(client: TestClient) -> None:
    async with client.get("/download") as resp:
        assert len(await resp.read()) == demo.DOWNLOAD_DEFAULT


@pytest.mark.parametrize("size", ["-1", "x", str(demo.DOWNLOAD_MAX + 1)])
async def test_download_rejects_bad_sizes(client: TestClient, size: str) -> None:
    async with client.get("/download", params={"size": size}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["status"] == 400


@pytest.mark.parametrize("size", [0, 10, 300_000])
async def test_upload_answers_name_size_sha256(client: TestClient, size: int) -> None:
    content = os.urandom(size)
    form = FormData()
    form.add_field("comment", "ignored")
    form.add_field("file", content, filename="data.bin", content_type="application/octet-stream")
    async with client.post("/upload", data=form) as resp:
        assert resp.status == 200
        assert await resp.json() == {
            "name": "data.bin",
            "size": size,
            "sha256": hashlib.sha256(content).hexdigest(),
        }


async def test_upload_without_file_field(client: TestClient) -> None:
    form = FormData()
    form.add_field("other", b"x", filename="x.txt")
    async with client.post("/upload", data=form) as resp:
        assert resp.status == 400
    async with client.post("/upload", data=b"raw") as resp:
        assert resp.status == 415


# --- the command line -----------------------------------------------------------------------


async def test_app_py_runs_and_stops_on_sigint() -> None:
    port = unused_port()
    proc = subprocess.Popen(
        [sys.executable, str(DEMO / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with ClientSession() as session:
            deadline = time.monotonic() + 20
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/") as resp:
                        assert resp.status == 200
                        assert "aioloom demo" in await resp.text()
                        break
                except OSError:
                    assert proc.poll() is None, proc.communicate()[0]
                    assert time.monotonic() < deadline, "the demo did not start"
                    await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        output, _ = await asyncio.to_thread(proc.communicate, timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert f"http://127.0.0.1:{port}".encode() in output


# --- the small examples stay runnable -------------------------------------------------------


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_example_ws_echo() -> None:
    out = _run("examples/ws_echo.py")
    assert out.splitlines() == ["TEXT hello/answer", "TEXT aioloom/answer", "CLOSE 1000"]


def test_example_multipart_upload(tmp_path: Path) -> None:
    song = tmp_path / "song.mp3"
    song.write_bytes(b"\x00ID3" * 1000)
    out = _run("examples/multipart_upload.py", str(song))
    assert out.strip() == "200 song.mp3 (audio/mpeg, 4000 bytes) uploaded by alice"


def test_example_testing_example() -> None:
    out = _run("-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/testing_example.py")
    assert "1 passed" in out


def test_example_server_hello_and_client_get() -> None:
    port = unused_port()
    server = subprocess.Popen(
        [sys.executable, "examples/server_hello.py", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            done = subprocess.run(
                [sys.executable, "examples/client_get.py", f"http://127.0.0.1:{port}/John"],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=ROOT,
            )
            if done.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "Status: 200",
            "Content-type: text/plain; charset=utf-8",
            "Body: Hello, John ...",
        ]
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
