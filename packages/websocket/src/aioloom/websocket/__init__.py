"""aioloom.websocket: the RFC 6455 frame codec, the close handshake, the opening handshake helpers and permessage-deflate (RFC 7692).

The public names follow aiohttp 3.14. This distribution is under construction: the names
it exports are listed in ``__all__``; nothing is exported before it works.
"""

from __future__ import annotations

__all__: tuple[str, ...] = ()
