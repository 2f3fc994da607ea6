"""Fetch a page with the client (aiohttp's client quickstart, with aioloom).

Usage: ``python3 examples/client_get.py [URL]`` (default http://python.org).
"""

from __future__ import annotations

import asyncio
import sys

from aioloom.client import ClientSession


async def main(url: str) -> None:
    async with ClientSession() as session:
        async with session.get(url) as response:
            print("Status:", response.status)
            print("Content-type:", response.headers["content-type"])
            html = await response.text()
            print("Body:", html[:15], "...")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://python.org"))
