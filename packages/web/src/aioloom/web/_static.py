"""Static files: :class:`StaticResource`, what ``router.add_static(prefix, directory)`` adds.

A request under the prefix names a file relative to the directory. The name never leaves
the directory: before the file system is touched, a name with a ``..`` segment (also when
spelled ``%2e%2e`` or joined with ``%2F``), a backslash, a NUL byte or an absolute path is
refused; then the path is resolved and must still lie inside the directory, so a symlink
that points out is refused too (unless ``follow_symlinks=True``: then only the URL cannot
climb out, links may). Every refusal, and every missing file, is the same
``404 Not Found``, so an attacker cannot tell whether a target outside exists. The file is
sent by :class:`~aioloom.web.FileResponse`, which never follows a symlinked ``.gz``/``.br``
sibling.

A directory gives ``403 Forbidden``, or with ``show_index=True`` a page listing it (names
HTML-escaped, links percent-encoded). With ``append_version=True``, ``url_for`` adds
``?v=<hash>``: the URL-safe base64 SHA-256 of the file, computed again only when the file's
modification time or size changes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import os
import posixpath
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

from yarl import URL

from ._exceptions import HTTPForbidden, HTTPNotFound
from ._fileresponse import FileResponse
from ._response import Response
from ._routing import (
    NO_METHODS,
    AbstractRoute,
    ExpectHandler,
    Handler,
    InfoDict,
    Resolve,
    ResourceRoute,
    UrlMappingMatchInfo,
    quote_path,
    unquote_path_safe,
)
from ._subapp_resources import PrefixResource

if TYPE_CHECKING:
    from ._request import Request
    from ._stream_response import StreamResponse

__all__ = ("DEFAULT_CHUNK_SIZE", "StaticResource")

DEFAULT_CHUNK_SIZE: Final = 256 * 1024
"""aiohttp's read size for files sent without sendfile."""

# FileResponse may send these siblings instead of the file (never through a symlink).
_SIBLING_SUFFIXES: Final = (".br", ".zst", ".gz")
# Symlink loops raise RuntimeError from Path.resolve() before Python 3.13, OSError after.
_RESOLVE_ERRORS: Final = (OSError, RuntimeError, ValueError)


def _unsafe_name(filename: str) -> bool:
    """True for a name that could leave the directory, whatever the file system holds."""
    if "\\" in filename or "\x00" in filename or filename.startswith("/"):
        return True
    return ".." in filename.split("/")


class StaticResource(PrefixResource):
    """Serves the files of ``directory`` under ``prefix`` (GET and HEAD).

    Args:
        prefix: the URL prefix (no trailing slash).
        directory: the directory to serve (``~`` is expanded).
        name: the resource's name, for ``url_for``.
        expect_handler: the ``Expect`` handler of its routes.
        chunk_size: the read size when sendfile is not used.
        show_index: answer a directory with a listing page instead of 403.
        follow_symlinks: serve symlinks that point outside the directory.
        append_version: ``url_for`` adds ``?v=<hash of the file>``.

    Raises:
        ValueError: ``directory`` does not exist or is not a directory.
    """

    VERSION_KEY = "v"

    def __init__(
        self,
        prefix: str,
        directory: str | os.PathLike[str],
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> None:
        super().__init__(prefix, name=name)
        try:
            root = Path(directory).expanduser().resolve(strict=True)
        except FileNotFoundError as exc:
            raise ValueError(f"'{directory}' does not exist") from exc
        if not root.is_dir():
            raise ValueError(f"'{directory}' is not a directory")
        self._directory = root
        self._show_index = show_index
        self._chunk_size = chunk_size
        self._follow_symlinks = follow_symlinks
        self._expect_handler = expect_handler
        self._append_version = append_version
        self._hashes: dict[Path, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, hash)
        self._routes: dict[str, ResourceRoute] = {
            method: ResourceRoute(method, self._handle, self, expect_handler=expect_handler)
            for method in ("GET", "HEAD")
        }
        self._allowed_methods = set(self._routes)

    # -- URLs -------------------------------------------------------------------------------

    def url_for(  # type: ignore[override]
        self, *, filename: str | os.PathLike[str], append_version: bool | None = None
    ) -> URL:
        """The URL of ``filename`` (relative to the directory).

        Args:
            filename: the file's path under the directory.
            append_version: add ``?v=<hash>`` (default: the resource's setting). Nothing
                is added for a file that does not exist or lies outside the directory.
        """
        if append_version is None:
            append_version = self._append_version
        name = os.fspath(filename).lstrip("/")
        url = URL.build(path=self._prefix + "/" + quote_path(name), encoded=True)
        if not append_version:
            return url
        file_hash = self._file_hash(name)
        return url if file_hash is None else url.with_query({self.VERSION_KEY: file_hash})

    def _file_hash(self, name: str) -> str | None:
        """The file's hash, recomputed only when its mtime or size changed."""
        if _unsafe_name(name):
            return None
        try:
            path = self._inside(self._directory.joinpath(name))
            st = path.stat()
        except (HTTPNotFound, *_RESOLVE_ERRORS):
            return None
        if not path.is_file():
            return None
        cached = self._hashes.get(path)
        if cached is not None and cached[:2] == (st.st_mtime_ns, st.st_size):
            return cached[2]
        digest = hashlib.sha256()
        with path.open("rb") as fobj:
            for block in iter(lambda: fobj.read(2**16), b""):
                digest.update(block)
        value = base64.urlsafe_b64encode(digest.digest()).decode("ascii")
        self._hashes[path] = (st.st_mtime_ns, st.st_size, value)
        return value

    def get_info(self) -> InfoDict:
        """``{"directory": ..., "prefix": ..., "routes": ...}``."""
        return {"directory": self._directory, "prefix": self._prefix, "routes": self._routes}

    def set_options_route(self, handler: Handler) -> None:
        """Answer OPTIONS requests under the prefix with ``handler`` (e.g. for CORS).

        Raises:
            RuntimeError: an OPTIONS route was set already.
        """
        if "OPTIONS" in self._routes:
            raise RuntimeError("OPTIONS route was set already")
        self._routes["OPTIONS"] = ResourceRoute(
            "OPTIONS", handler, self, expect_handler=self._expect_handler
        )
        self._allowed_methods.add("OPTIONS")

    # -- matching ---------------------------------------------------------------------------

    async def resolve(self, request: Request) -> Resolve:
        """Match a path under the prefix; the rest of it is the ``filename`` variable."""
        path = request.rel_url.path_safe
        # Normalised first, so that /static/../secret is not taken as under /static.
        normalized = posixpath.normpath(path)
        if not normalized.startswith(self._safe_prefix2) and normalized != self._safe_prefix:
            return None, NO_METHODS
        route = self._routes.get(request.method)
        if route is None:
            return None, self._allowed_methods
        filename = unquote_path_safe(path[len(self._safe_prefix) + 1 :])
        return UrlMappingMatchInfo({"filename": filename}, route), self._allowed_methods

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes.values())

    # -- serving ----------------------------------------------------------------------------

    async def _handle(self, request: Request) -> StreamResponse:
        filename = request.match_info["filename"]
        if _unsafe_name(filename):
            raise HTTPNotFound()
        loop = asyncio.get_running_loop()
        # Resolving and listing touch the disk: never on the event loop.
        return await loop.run_in_executor(None, self._response_for, filename)

    def _inside(self, unresolved: Path) -> Path:
        """Resolve ``unresolved`` and check that it stays under the directory.

        Raises:
            HTTPNotFound: it leaves the directory (through a symlink, unless followed).
        """
        try:
            if self._follow_symlinks:
                normalized = Path(os.path.normpath(unresolved))
                normalized.relative_to(self._directory)
                return normalized.resolve()
            resolved = unresolved.resolve()
            resolved.relative_to(self._directory)
            return resolved
        except _RESOLVE_ERRORS as exc:
            raise HTTPNotFound() from exc

    def _response_for(self, filename: str) -> StreamResponse:
        """Build the answer for ``filename`` (runs in the executor)."""
        path = self._inside(self._directory.joinpath(filename))
        try:
            if path.is_dir():
                if not self._show_index:
                    raise HTTPForbidden()
                return Response(text=self._directory_as_html(path), content_type="text/html")
            if not path.exists() and not self._has_sibling(path):
                raise HTTPNotFound()
        except PermissionError as exc:
            raise HTTPForbidden() from exc
        except (OSError, ValueError) as exc:
            raise HTTPNotFound() from exc
        return FileResponse(path, chunk_size=self._chunk_size)

    @staticmethod
    def _has_sibling(path: Path) -> bool:
        """True when FileResponse could send a precompressed sibling of a missing file."""
        for suffix in _SIBLING_SUFFIXES:
            try:
                if stat.S_ISREG(path.with_name(path.name + suffix).lstat().st_mode):
                    return True
            except OSError:
                continue
        return False

    def _directory_as_html(self, dir_path: Path) -> str:
        """The listing page of ``dir_path``: names escaped, links percent-encoded."""
        relative = dir_path.relative_to(self._directory).as_posix()
        index_of = f"Index of /{html.escape('' if relative == '.' else relative)}"
        items: list[str] = []
        for entry in sorted(dir_path.iterdir()):
            rel = entry.relative_to(self._directory).as_posix()
            url = self._prefix + "/" + quote_path(rel)
            shown = entry.name + "/" if entry.is_dir() else entry.name
            items.append(
                f'<li><a href="{html.escape(url, quote=True)}">{html.escape(shown)}</a></li>'
            )
        listing = "<ul>\n" + "\n".join(items) + "\n</ul>"
        return (
            f"<html>\n<head>\n<title>{index_of}</title>\n</head>\n"
            f"<body>\n<h1>{index_of}</h1>\n{listing}\n</body>\n</html>"
        )

    def __repr__(self) -> str:
        name = f"'{self.name}'" if self.name is not None else ""
        return f"<StaticResource {name} {self._prefix} -> {self._directory!r}>"
