"""Resources that hand a request on: path prefixes and sub-applications.

* :class:`PrefixResource`: owns every path under a prefix (the static resource in
  ``_static`` is one).
* :class:`PrefixedSubAppResource`: everything under a prefix goes to a sub-application's
  router.
* :class:`MatchedSubAppResource`: every request whose ``Host`` matches a :class:`Domain` (or a
  wildcard :class:`MaskDomain`, both :class:`AbstractRuleMatching`) goes to a sub-application.

The path resources (plain and dynamic) live in ``_resources``.
"""

from __future__ import annotations

import abc
import fnmatch
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from yarl import URL

from aioloom.http import hdrs

from ._exceptions import HTTPMethodNotAllowed
from ._resources import _check_prefix
from ._routing import (
    NO_METHODS,
    AbstractResource,
    AbstractRoute,
    InfoDict,
    Resolve,
    quote_path,
    safe_form,
)

if TYPE_CHECKING:
    from ._app import Application
    from ._request import Request

__all__ = (
    "AbstractRuleMatching",
    "Domain",
    "MaskDomain",
    "MatchedSubAppResource",
    "PrefixResource",
    "PrefixedSubAppResource",
)


# -- prefixes and sub-applications --------------------------------------------------------------


class PrefixResource(AbstractResource):
    """A resource owning every path under a prefix.

    Args:
        prefix: the decoded prefix (starts with ``/``, does not end with it).
        name: the resource's name.
    """

    def __init__(self, prefix: str, *, name: str | None = None) -> None:
        if prefix and (not prefix.startswith("/") or (prefix != "/" and prefix.endswith("/"))):
            raise ValueError(f"Bad prefix {prefix!r}")
        super().__init__(name=name)
        self._set_prefix(prefix)

    def _set_prefix(self, prefix: str) -> None:
        self._plain_prefix = prefix
        self._prefix = quote_path(prefix) if prefix else ""
        self._safe_prefix = safe_form(prefix)
        self._safe_prefix2 = self._safe_prefix + "/"

    @property
    def canonical(self) -> str:
        """The percent-encoded prefix."""
        return self._prefix

    def add_prefix(self, prefix: str) -> None:
        """Put an outer sub-application's prefix in front."""
        _check_prefix(prefix)
        self._set_prefix(prefix + self._plain_prefix)

    def _index_key(self) -> str | None:
        return self._safe_prefix.rstrip("/") or "/"

    def raw_match(self, prefix: str) -> bool:
        """Prefix resources are never reused by ``add_resource``."""
        return False


class PrefixedSubAppResource(PrefixResource):
    """Routes every path under ``prefix`` through ``app``'s router.

    The sub-application's resources get the prefix too, so its ``url_for`` results
    include it.
    """

    def __init__(self, prefix: str, app: Application) -> None:
        super().__init__(prefix)
        self._app = app
        self._add_prefix_to_resources(prefix)

    def add_prefix(self, prefix: str) -> None:
        """Put an outer prefix in front of this one and of the sub-application's paths."""
        super().add_prefix(prefix)
        self._add_prefix_to_resources(prefix)

    def _add_prefix_to_resources(self, prefix: str) -> None:
        router = self._app.router
        for resource in router.resources():
            router.unindex_resource(resource)  # its index key changes with its path
            resource.add_prefix(prefix)
            router.index_resource(resource)

    def url_for(self, *args: str, **kwargs: str) -> URL:
        """Not available: name a resource of the sub-application instead.

        Raises:
            RuntimeError: always.
        """
        raise RuntimeError(".url_for() is not supported by sub-application root")

    def get_info(self) -> InfoDict:
        """``{"app": ..., "prefix": ...}``."""
        return {"app": self._app, "prefix": self._prefix}

    async def resolve(self, request: Request) -> Resolve:
        """Resolve in the sub-application's router (its 404/405 is final)."""
        match_info = await self._app.router.resolve(request)
        match_info.add_app(self._app)
        exc = match_info.http_exception
        methods = exc.allowed_methods if isinstance(exc, HTTPMethodNotAllowed) else NO_METHODS
        return match_info, methods

    def __len__(self) -> int:
        return len(self._app.router.routes())

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._app.router.routes())

    def __repr__(self) -> str:
        return f"<PrefixedSubAppResource {self._prefix} -> {self._app!r}>"


class AbstractRuleMatching(abc.ABC):
    """A rule choosing the requests a :class:`MatchedSubAppResource` routes."""

    @abc.abstractmethod
    async def match(self, request: Request) -> bool:
        """True when the request belongs to the sub-application."""

    @abc.abstractmethod
    def get_info(self) -> InfoDict:
        """Information for introspection."""

    @property
    @abc.abstractmethod
    def canonical(self) -> str:
        """The rule as text."""


class Domain(AbstractRuleMatching):
    """Matches requests whose ``Host`` is the domain (and port, when not 80).

    Args:
        domain: e.g. ``example.com`` or ``example.com:8080``.

    Raises:
        TypeError: ``domain`` is not a str.
        ValueError: the domain is empty, has a scheme or is not a valid host name.
    """

    re_part = re.compile(r"(?!-)[a-z\d-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        super().__init__()
        self._domain = self.validation(domain)

    @property
    def canonical(self) -> str:
        """The normalised ``host[:port]``."""
        return self._domain

    def validation(self, domain: str) -> str:
        """Normalise and check ``domain``: lower case, no trailing dot, port 80 dropped."""
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        domain = domain.rstrip(".").lower()
        if not domain:
            raise ValueError("Domain cannot be empty")
        if "://" in domain:
            raise ValueError("Scheme not supported")
        try:
            url = URL("http://" + domain)
        except ValueError as exc:
            raise ValueError("Domain not valid") from exc
        host = url.raw_host
        if not host or not all(self.re_part.fullmatch(x) for x in host.split(".")):
            raise ValueError("Domain not valid")
        if url.path not in ("", "/") or url.query_string or url.user is not None:
            raise ValueError("Domain not valid")
        if url.port == 80:
            return host
        return f"{host}:{url.port}"

    async def match(self, request: Request) -> bool:
        """Compare the request's Host header."""
        host = request.headers.get(hdrs.HOST)
        if not host:
            return False
        return self.match_domain(host)

    def match_domain(self, host: str) -> bool:
        """True when ``host`` (a Host header value) is this domain."""
        return host.lower() == self._domain

    def get_info(self) -> InfoDict:
        """``{"domain": ...}``."""
        return {"domain": self._domain}


class MaskDomain(Domain):
    """A domain with ``*`` wildcards, e.g. ``*.example.com`` (any subdomain, any depth)."""

    re_part = re.compile(r"(?!-)[a-z\d*-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        super().__init__(domain)
        self._pattern = self._domain.replace(".", r"\.").replace("*", "[^:]*") + "(:.*)?"
        host_mask, _, self._port = self._domain.partition(":")
        self._mask = re.compile(fnmatch.translate(host_mask), re.IGNORECASE)

    @property
    def canonical(self) -> str:
        """The rule as a regex source."""
        return self._pattern

    def match_domain(self, host: str) -> bool:
        """True when ``host`` matches the mask (and the port, when the mask has one)."""
        hostname, _, port = host.partition(":")
        if self._port and port != self._port:
            return False
        return self._mask.match(hostname) is not None


class MatchedSubAppResource(PrefixedSubAppResource):
    """Routes the requests a rule (a :class:`Domain`) accepts through ``app``'s router."""

    def __init__(self, rule: AbstractRuleMatching, app: Application) -> None:
        AbstractResource.__init__(self)
        self._set_prefix("")
        self._app = app
        self._rule = rule

    @property
    def canonical(self) -> str:
        """The rule's text."""
        return self._rule.canonical

    def _index_key(self) -> str | None:
        return None  # tried on every request, before the indexed resources

    def get_info(self) -> InfoDict:
        """``{"app": ..., "rule": ...}``."""
        return {"app": self._app, "rule": self._rule}

    async def resolve(self, request: Request) -> Resolve:
        """Resolve in the sub-application's router when the rule matches."""
        if not await self._rule.match(request):
            return None, NO_METHODS
        return await super().resolve(request)

    def __repr__(self) -> str:
        return f"<MatchedSubAppResource -> {self._app!r}>"
