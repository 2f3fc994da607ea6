"""Upload a file with ``FormData`` and read it on the server with ``request.post()``.

Starts a server on a free port, posts a form with a text field and a file, prints the answer.
Usage: ``python3 examples/multipart_upload.py [FILE]`` (default: this script).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aioloom import web
from aioloom.client import ClientSession
from aioloom.multipart import FormData


async def store_mp3_handler(request: web.Request) -> web.Response:
    data = await request.post()
    user, upload = data["user"], data["mp3"]
    assert isinstance(user, str) and isinstance(upload, web.FileField)
    content = upload.file.read()
    return web.Response(
        text=f"{upload.filename} ({upload.content_type}, {len(content)} bytes) uploaded by {user}"
    )


async def main(path: Path) -> None:
    app = web.Application()
    app.router.add_post("/store/mp3", store_mp3_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        form = FormData()
        form.add_field("user", "alice")
        with path.open("rb") as file:
            form.add_field("mp3", file, filename=path.name, content_type="audio/mpeg")
            async with ClientSession() as session:
                async with session.post(f"http://{host}:{port}/store/mp3", data=form) as resp:
                    print(resp.status, await resp.text())
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else __file__)))
