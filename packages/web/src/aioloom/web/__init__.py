"""aioloom.web: the server protocol, Application, router, middlewares, responses, static
files and runners.

The public names follow aiohttp 3.14. This distribution is under construction: the names
it exports are listed in ``__all__``; nothing is exported before it works.
"""

from __future__ import annotations

__all__: tuple[str, ...] = ()
