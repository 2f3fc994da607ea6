"""multipart/form-data end to end: curl and the aioloom client uploading to aioloom.web.

The server reads forms with ``request.post()`` (files spooled to temporary files, the whole
form counted against ``client_max_size`` while it is read) and ``request.multipart()``
(streaming); the client sends ``FormData`` with files streamed. The client's bodies are also
read back by the standard library's ``email`` parser, an independent multipart reader.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import hashlib
import io
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from aioloom.client import ClientSession
from aioloom.multipart import FormData
from aioloom.web import Application, AppRunner, FileField, Request, Response, TCPSite, json_response

Handler = Callable[[Request], Awaitable[Response]]
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


async def describe_form(request: Request) -> Response:
    """Answer with every field: text values as they are, files as name, size and digest."""
    form = await request.post()
    out: dict[str, Any] = {}
    for name, value in form.items():
        if isinstance(value, FileField):
            data = value.file.read()
            out[name] = {
                "filename": value.filename,
                "content_type": value.content_type,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "spooled": not isinstance(value.file, io.BytesIO),
            }
            value.file.close()
        else:
            out[name] = value
    return json_response(out)


async def stream_parts(request: Request) -> Response:
    """Read the body part by part with request.multipart(), never more than 8 KiB at once."""
    reader = await request.multipart()
    seen = []
    async for part in reader:
        size, biggest = 0, 0
        while chunk := await part.read_chunk(8192):
            size += len(chunk)
            biggest = max(biggest, len(chunk))
        seen.append({"name": part.name, "size": size, "biggest": biggest})
    return json_response(seen)


@asynccontextmanager
async def serve(handler: Handler, **app_kwargs: Any) -> AsyncIterator[str]:
    app = Application(**app_kwargs)
    app.router.add_post("/", handler)
    runner = AppRunner(app, access_log=None)
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site.port}/"
    finally:
        await runner.cleanup()


@needs_curl
async def test_curl_form_upload_with_non_ascii_filename(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 1000
    upload = tmp_path / "upload.bin"
    upload.write_bytes(payload)
    async with serve(describe_form) as url:
        proc = await asyncio.create_subprocess_exec(
            "curl", "-sS", "-F", "title=Grüße", "-F",
            f"doc=@{upload};filename=résumé.bin;type=application/x-demo", url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
    assert proc.returncode == 0, err
    import json

    got = json.loads(out)
    assert got["title"] == "Grüße"
    assert got["doc"]["filename"] == "résumé.bin"
    assert got["doc"]["content_type"] == "application/x-demo"
    assert got["doc"]["size"] == len(payload)
    assert got["doc"]["sha256"] == hashlib.sha256(payload).hexdigest()
    assert got["doc"]["spooled"] is True


async def test_client_formdata_file_reaches_post(tmp_path: Path) -> None:
    payload = b"\x00\xffdata" * 300_000  # 1.8 MB: streamed by the client, spooled by the server
    upload = tmp_path / "big.dat"
    upload.write_bytes(payload)
    async with serve(describe_form, client_max_size=8 * 2**20) as url:
        async with ClientSession() as session:
            with upload.open("rb") as fh:
                form = FormData()
                form.add_field("note", "hello")
                form.add_field("file", fh, filename="big.dat", content_type="image/x-test")
                async with session.post(url, data=form) as resp:
                    assert resp.status == 200
                    got = await resp.json()
    assert got["note"] == "hello"
    assert got["file"]["filename"] == "big.dat"
    assert got["file"]["content_type"] == "image/x-test"
    assert got["file"]["size"] == len(payload)
    assert got["file"]["sha256"] == hashlib.sha256(payload).hexdigest()


async def test_client_max_size_counts_the_whole_form() -> None:
    # Each field is under the limit; together they are over it.
    async with serve(describe_form, client_max_size=100_000) as url:
        async with ClientSession() as session:
            form = FormData()
            form.add_field("a", io.BytesIO(b"x" * 60_000), filename="a.bin")
            form.add_field("b", io.BytesIO(b"y" * 60_000), filename="b.bin")
            async with session.post(url, data=form) as resp:
                assert resp.status == 413
            # A single oversized text field is refused as it is read, not after.
            form = FormData()
            form.add_field("t", "z" * 150_000, content_type="text/plain")
            async with session.post(url, data=form) as resp:
                assert resp.status == 413
            # The server keeps serving.
            form = FormData()
            form.add_field("ok", "fine")
            form.add_field("f", io.BytesIO(b"1"), filename="f")
            async with session.post(url, data=form) as resp:
                assert resp.status == 200
                assert (await resp.json())["ok"] == "fine"


async def test_request_multipart_streams_parts() -> None:
    big = b"q" * 500_000
    async with serve(stream_parts, client_max_size=2**20) as url:
        async with ClientSession() as session:
            form = FormData()
            form.add_field("small", "v")
            form.add_field("large", io.BytesIO(big), filename="large.bin")
            async with session.post(url, data=form) as resp:
                assert resp.status == 200
                got = await resp.json()
    assert got == [
        {"name": "small", "size": 1, "biggest": 1},
        {"name": "large", "size": len(big), "biggest": 8192},
    ]


async def test_client_upload_is_read_back_by_the_email_parser() -> None:
    """The aioloom client's multipart body, captured raw, parsed by the standard library."""
    captured: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def capture(request: Request) -> Response:
        body = await request.read()
        captured.set_result(request.headers["Content-Type"].encode() + b"\r\n" + body)
        return Response(text="ok")

    async with serve(capture) as url:
        async with ClientSession() as session:
            form = FormData()
            form.add_field("text", "naïve café")
            form.add_field("blob", io.BytesIO(b"\x00\x01\x02"), filename="ü.bin")
            async with session.post(url, data=form) as resp:
                assert resp.status == 200
    content_type, _, body = (await captured).partition(b"\r\n")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type + b"\r\n\r\n" + body
    )
    assert message.is_multipart() and not message.defects
    parts = list(message.iter_parts())
    assert [p.get_param("name", header="content-disposition") for p in parts] == ["text", "blob"]
    assert parts[0].get_payload(decode=True).decode("utf-8") == "naïve café"
    assert parts[1].get_payload(decode=True) == b"\x00\x01\x02"
