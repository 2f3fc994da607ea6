"""aioloom.client: ClientSession, connectors, cookies, auth, proxies, TLS, tracing and
client middlewares.

The public names follow aiohttp 3.14. This distribution is under construction: the names
it exports are listed in ``__all__``; nothing is exported before it works.
"""

from __future__ import annotations

__all__: tuple[str, ...] = ()
