"""The router: :class:`UrlDispatcher` (aiohttp's), and how it finds a resource fast.

Resolution follows aiohttp 3.14: resources are indexed by the fixed part of their path
before the first variable (``/users/{id}`` under ``/users``; a plain path under itself; a
prefix under the prefix). A request walks its own path from the longest prefix to ``/``
(``/a/b/c``, ``/a/b``, ``/a``, ``/``) and tries the resources indexed under each, in
registration order; the first that matches the path *and* has a route for the method wins.
If some matched the path without the method the answer is 405 with their ``Allow``,
otherwise 404. Domain-matched sub-applications (``add_domain``) are tried first.

Cost per request therefore does not grow with the number of routes:

* a plain path is a dict lookup and a string comparison;
* the dynamic resources of one index key are compiled into *one* regex per method (an
  alternation with a marker group per resource, so ``match.lastgroup`` names the winner),
  so a thousand ``/{tenant}/...`` routes cost one regex call, not a thousand; the winner's
  own regex then extracts the variables.

Resources whose regex would change meaning inside a larger one (back-references, named
groups of their own, inline flags) and custom resources are tried one by one.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from aioloom.http import hdrs

from ._exceptions import HTTPMethodNotAllowed, HTTPNotFound
from ._resources import (
    ROUTE_RE,
    DynamicResource,
    PlainResource,
    Resource,
)
from ._routing import (
    NO_METHODS,
    AbstractResource,
    AbstractRoute,
    AbstractRouter,
    ExpectHandler,
    Handler,
    HandlerOrView,
    MatchInfoError,
    Resolve,
    ResourcesView,
    RoutesView,
    UrlMappingMatchInfo,
)
from ._static import DEFAULT_CHUNK_SIZE, StaticResource
from ._view import AbstractView

if TYPE_CHECKING:
    from os import PathLike

    from ._request import Request
    from ._routedef import AbstractRouteDef

__all__ = ("UrlDispatcher",)

_NAME_SPLIT_RE: Final = re.compile(r"[.:-]")


class _Group:
    """Consecutive dynamic resources of one index key, matched by one regex per method."""

    __slots__ = ("_by_method", "_everything", "_methods", "_resolvers", "resources")

    def __init__(self, resources: list[DynamicResource]) -> None:
        self.resources = resources
        # The winner fully matched its own pattern in the combined regex: its walk
        # resolver's shortcut (it trusts the index key) holds for any path here.
        self._resolvers = {id(res): res._walk_resolver() for res in resources}
        self._methods: frozenset[str] = frozenset(
            method for res in resources for method in res._routes if method != hdrs.METH_ANY
        )
        # method (None: any other method) -> the combined regex of the resources serving it
        self._by_method: dict[str | None, tuple[re.Pattern[str], list[DynamicResource]] | None]
        self._by_method = {}
        self._everything = self._combine(resources)

    @staticmethod
    def _combine(
        resources: list[DynamicResource],
    ) -> tuple[re.Pattern[str], list[DynamicResource]] | None:
        if not resources:
            return None
        source = "|".join(
            f"(?:{res.anonymous_source})(?P<_r{i}>)" for i, res in enumerate(resources)
        )
        return re.compile(source), resources

    def _for_method(self, method: str) -> tuple[re.Pattern[str], list[DynamicResource]] | None:
        key = method if method in self._methods else None  # bounded: no per-method growth
        try:
            return self._by_method[key]
        except KeyError:
            serving = [
                res
                for res in self.resources
                if (key is not None and key in res._routes) or res._any_route is not None
            ]
            # Shared when every resource serves the method: then no 405 can come from here.
            combined = self._everything if len(serving) == len(self.resources) else None
            if combined is None:
                combined = self._combine(serving)
            self._by_method[key] = combined
            return combined

    def resolve(self, path: str, method: str) -> Resolve:
        """The first resource matching ``path`` with a route for ``method``.

        Without one, the methods of the resources that match the path (for 405).
        """
        combined = self._for_method(method)
        everything = self._everything
        assert everything is not None
        if combined is not None:
            match = combined[0].fullmatch(path)
            if match is not None:
                winner = combined[1][int(match.lastgroup[2:])]  # type: ignore[index]
                return self._resolvers[id(winner)](path, method)
            if combined is everything:
                return None, NO_METHODS
        if everything[0].fullmatch(path) is None:
            return None, NO_METHODS
        # 405: which methods would a resource matching the path accept? One combined
        # regex per method the group knows (a handful), never one match per resource.
        allowed: set[str] = set()
        for known in self._methods:
            serving = self._for_method(known)
            if serving is not None and serving[0].fullmatch(path) is not None:
                allowed.add(known)
        return None, allowed


class _Awaited:
    """A plan entry for a resource whose own ``resolve`` coroutine must be awaited."""

    __slots__ = ("resource",)

    def __init__(self, resource: AbstractResource) -> None:
        self.resource = resource


_Entry = Callable[[str, str], Resolve] | _Awaited
"""A synchronous ``(path, method) -> Resolve`` matcher, or a resource to await."""


def _is_fast(resource: AbstractResource) -> bool:
    """True for resources the router may match without awaiting their ``resolve``."""
    return isinstance(resource, Resource) and type(resource).resolve is Resource.resolve


def _is_combinable(resource: AbstractResource) -> bool:
    return (
        isinstance(resource, DynamicResource)
        and resource.combinable
        and _is_fast(resource)
        and type(resource)._match is DynamicResource._match
    )


def _plan(resources: list[AbstractResource], *, walk: bool) -> tuple[_Entry, ...]:
    """Turn the resources of one index key into entries, keeping registration order.

    ``walk``: the entries are called only by the router's walk, for paths that start with
    the index key followed by ``/`` or nothing (dynamic resources may then skip checking
    it); otherwise (the root's resources for a path such as ``*``) they check everything.
    """
    entries: list[_Entry] = []
    run: list[DynamicResource] = []

    def flush() -> None:
        if len(run) > 1:
            entries.append(_Group(list(run)).resolve)
        elif run:
            entries.append(run[0]._walk_resolver() if walk else run[0]._resolver())
        run.clear()

    for resource in resources:
        if _is_combinable(resource):
            assert isinstance(resource, DynamicResource)
            run.append(resource)
            continue
        flush()
        if _is_fast(resource):
            assert isinstance(resource, Resource)
            entries.append(resource._resolver())
        else:
            entries.append(_Awaited(resource))
    flush()
    return tuple(entries)


class UrlDispatcher(AbstractRouter, Mapping[str, AbstractResource]):
    """The router of an application: resources, routes and names.

    As a mapping it gives the named resources: ``router["user"].url_for(id="42")``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._resources: list[AbstractResource] = []
        self._named_resources: dict[str, AbstractResource] = {}
        self._resource_index: dict[str, list[AbstractResource]] = {}
        self._matched_sub_app_resources: list[AbstractResource] = []
        self._plans: dict[str, tuple[_Entry, ...]] = {}  # index key -> the walk's entries
        # index key -> its first resource's value resolver, when that is <key>/{name}
        self._value_resolvers: dict[str, Callable[[str, str], UrlMappingMatchInfo | None]] = {}
        self._root_plan: tuple[_Entry, ...] | None = None  # "/" for paths not starting with /
        self._key_lengths: dict[int, int] = {}  # length of an index key -> how many keys
        self._longest_key = 0  # the longest index key's length

    # -- resolution -------------------------------------------------------------------------

    async def resolve(self, request: Request) -> UrlMappingMatchInfo:
        """Find the route for ``request``: a match info, or a 404/405 :class:`MatchInfoError`."""
        method = request.method
        allowed: set[str] | None = None
        for resource in self._matched_sub_app_resources:
            match_info, methods = await resource.resolve(request)
            if match_info is not None:
                return match_info
            if methods:
                allowed = set(methods) if allowed is None else allowed | methods
        path = request.rel_url.path_safe
        lengths = self._key_lengths
        end = len(path)
        if end not in lengths:
            # No key is the path itself: its parent is the walk's first key. When that
            # key's first resource is ``<key>/{name}`` and serves the method, it is the
            # answer (the common ``/users/42``), found without the walk.
            parent, _, value = path.rpartition("/")
            resolve_value = self._value_resolvers.get(parent)
            if resolve_value is not None and value:
                match_info = resolve_value(value, method)
                if match_info is not None:
                    return match_info
        plans = self._plans
        longest = self._longest_key
        part = path
        # Walk the prefixes, longest first: /a/b/c, /a/b, /a, then the root "/". Only the
        # prefixes as long as some key are looked up. Past the first step, a prefix longer
        # than every key jumps to the last "/" a key could end at: thousands of slashes
        # cost a scan, not a copy of the path per slash.
        while True:
            if end in lengths:
                plan = plans.get(part)
                if plan is None and part in self._resource_index:
                    plan = self._build_plan(part)
                if plan:
                    for entry in plan:
                        if type(entry) is _Awaited:
                            match_info, methods = await entry.resource.resolve(request)
                        else:
                            match_info, methods = entry(path, method)  # type: ignore[operator]
                        if match_info is not None:
                            return match_info
                        if methods:
                            allowed = set(methods) if allowed is None else allowed | methods
            if end <= 1:
                break
            if end <= longest or part is path:
                # the parent in one call (cheaper than rfind and a slice); a path copied
                # once, shorter prefixes only when no longer than the longest key
                part, slash, _ = part.rpartition("/")
                if not slash:  # a path without a leading "/" ("*"): no root step
                    break
            else:
                cut = path.rfind("/", 0, longest + 1)
                if cut < 0:
                    break
                part = path[:cut]
            end = len(part)
            if not end:  # the leading slash: next is the root
                part = "/"
                end = 1
        if not path.startswith("/"):  # "*" or "": only the root's resources are left
            match_info, methods = await self._resolve_root(request, path, method)
            if match_info is not None:
                return match_info
            if methods:
                allowed = set(methods) if allowed is None else allowed | methods
        if allowed:
            return MatchInfoError(HTTPMethodNotAllowed(method, allowed))
        return MatchInfoError(HTTPNotFound())

    async def _resolve_root(self, request: Request, path: str, method: str) -> Resolve:
        """Try the resources indexed under ``/`` for a path that does not start with ``/``."""
        allowed: set[str] = set()
        plan = self._root_plan
        if plan is None:
            plan = self._root_plan = _plan(self._resource_index.get("/", []), walk=False)
        for entry in plan:
            if isinstance(entry, _Awaited):
                match_info, methods = await entry.resource.resolve(request)
            else:
                match_info, methods = entry(path, method)
            if match_info is not None:
                return match_info, methods
            allowed.update(methods)
        return None, allowed

    def _build_plan(self, key: str) -> tuple[_Entry, ...]:
        resources = self._resource_index[key]
        plan = _plan(resources, walk=True)
        self._plans[key] = plan
        first = resources[0]
        if isinstance(first, DynamicResource):
            resolve_value = first._value_resolver()
            if resolve_value is not None:
                self._value_resolvers[key] = resolve_value
        return plan

    def _drop_plan(self, key: str) -> None:
        """Forget the entries of ``key`` (its resources or their routes changed)."""
        self._plans.pop(key, None)
        self._value_resolvers.pop(key, None)
        if key == "/":
            self._root_plan = None

    # -- the mapping of names ------------------------------------------------------------------

    def __iter__(self) -> Iterator[str]:
        return iter(self._named_resources)

    def __len__(self) -> int:
        return len(self._named_resources)

    def __contains__(self, resource: object) -> bool:
        return resource in self._named_resources

    def __getitem__(self, name: str) -> AbstractResource:
        return self._named_resources[name]

    def resources(self) -> ResourcesView:
        """All resources, in registration order."""
        return ResourcesView(self._resources)

    def routes(self) -> RoutesView:
        """All routes, in registration order."""
        return RoutesView(self._resources)

    def named_resources(self) -> Mapping[str, AbstractResource]:
        """The named resources (read-only)."""
        return MappingProxyType(self._named_resources)

    # -- registration --------------------------------------------------------------------------

    def register_resource(self, resource: AbstractResource) -> None:
        """Add a resource (and its name).

        Raises:
            RuntimeError: the router is frozen.
            ValueError: the name is not dotted identifiers or is already used.
            TypeError: ``resource`` is not an :class:`AbstractResource`.
        """
        if not isinstance(resource, AbstractResource):
            raise TypeError(f"Instance of AbstractResource class is required, got {resource!r}")
        if self.frozen:
            raise RuntimeError("Cannot register a resource into frozen router.")
        name = resource.name
        if name is not None:
            _check_name(name)
            if name in self._named_resources:
                raise ValueError(
                    f"Duplicate {name!r}, already handled by {self._named_resources[name]!r}"
                )
            self._named_resources[name] = resource
        self._resources.append(resource)
        if isinstance(resource, Resource):
            resource._on_change = self._invalidate
        self.index_resource(resource)

    def index_resource(self, resource: AbstractResource) -> None:
        """Put ``resource`` in the path index (or the list tried on every request)."""
        key = resource._index_key()
        if key is None:
            self._matched_sub_app_resources.append(resource)
            return
        bucket = self._resource_index.get(key)
        if bucket is None:
            bucket = self._resource_index[key] = []
            self._key_lengths[len(key)] = self._key_lengths.get(len(key), 0) + 1
            self._longest_key = max(self._longest_key, len(key))
        bucket.append(resource)
        self._drop_plan(key)

    def unindex_resource(self, resource: AbstractResource) -> None:
        """Take ``resource`` out of the index (before its path changes)."""
        key = resource._index_key()
        if key is None:
            self._matched_sub_app_resources.remove(resource)
            return
        bucket = self._resource_index[key]
        bucket.remove(resource)
        if not bucket:
            del self._resource_index[key]
            remaining = self._key_lengths[len(key)] - 1
            if remaining:
                self._key_lengths[len(key)] = remaining
            else:
                del self._key_lengths[len(key)]
                self._longest_key = max(self._key_lengths, default=0)
        self._drop_plan(key)

    def add_resource(self, path: str, *, name: str | None = None) -> Resource:
        """Get the resource for ``path``: the last one registered if it has the same path and
        name, else a new :class:`PlainResource` or :class:`DynamicResource`.

        Raises:
            ValueError: the path does not start with ``/`` (empty is allowed: a
                sub-application's root) or is a malformed pattern.
        """
        if path and not path.startswith("/"):
            raise ValueError("path should be started with / or be empty")
        if self.frozen:
            raise RuntimeError("Cannot register a resource into frozen router.")
        if self._resources:
            last = self._resources[-1]
            if isinstance(last, Resource) and last.name == name and last.raw_match(path):
                return last
        resource: Resource
        if "{" in path or "}" in path or ROUTE_RE.search(path):
            resource = DynamicResource(path, name=name)
        else:
            resource = PlainResource(path, name=name)
        self.register_resource(resource)
        return resource

    def add_route(
        self,
        method: str,
        path: str,
        handler: HandlerOrView,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
    ) -> AbstractRoute:
        """Register ``handler`` for ``method`` (``*``: any) on ``path``."""
        resource = self.add_resource(path, name=name)
        return resource.add_route(method, handler, expect_handler=expect_handler)

    def _invalidate(self, resource: AbstractResource) -> None:
        """Drop the plan of ``resource``'s index key (a route was added to it)."""
        key = resource._index_key()
        if key is not None:
            self._drop_plan(key)

    def add_static(
        self,
        prefix: str,
        path: str | PathLike[str],
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> StaticResource:
        """Serve the files under the directory ``path`` at URLs under ``prefix``.

        Raises:
            ValueError: ``prefix`` does not start with ``/``, or ``path`` is not a
                directory.
        """
        if not prefix.startswith("/"):
            raise ValueError("prefix should start with /")
        if prefix.endswith("/"):
            prefix = prefix[:-1]
        resource = StaticResource(
            prefix,
            path,
            name=name,
            expect_handler=expect_handler,
            chunk_size=chunk_size,
            show_index=show_index,
            follow_symlinks=follow_symlinks,
            append_version=append_version,
        )
        self.register_resource(resource)
        return resource

    def add_head(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        """Register a HEAD route."""
        return self.add_route(hdrs.METH_HEAD, path, handler, **kwargs)

    def add_options(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        """Register an OPTIONS route."""
        return self.add_route(hdrs.METH_OPTIONS, path, handler, **kwargs)

    def add_get(
        self,
        path: str,
        handler: Handler,
        *,
        name: str | None = None,
        allow_head: bool = True,
        **kwargs: Any,
    ) -> AbstractRoute:
        """Register a GET route, and a HEAD route with the same handler unless
        ``allow_head`` is false."""
        resource = self.add_resource(path, name=name)
        if allow_head:
            resource.add_route(hdrs.METH_HEAD, handler, **kwargs)
        return resource.add_route(hdrs.METH_GET, handler, **kwargs)

    def add_post(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        """Register a POST route."""
        return self.add_route(hdrs.METH_POST, path, handler, **kwargs)

    def add_put(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        """Register a PUT route."""
        return self.add_route(hdrs.METH_PUT, path, handler, **kwargs)

    def add_patch(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        """Register a PATCH route."""
        return self.add_route(hdrs.METH_PATCH, path, handler, **kwargs)

    def add_delete(self, path: str, handler: Handler, **kwargs: Any) -> AbstractRoute:
        """Register a DELETE route."""
        return self.add_route(hdrs.METH_DELETE, path, handler, **kwargs)

    def add_view(self, path: str, handler: type[AbstractView], **kwargs: Any) -> AbstractRoute:
        """Register a class-based view for every method."""
        return self.add_route(hdrs.METH_ANY, path, handler, **kwargs)

    def add_routes(self, routes: Iterable[AbstractRouteDef]) -> list[AbstractRoute]:
        """Register route definitions (a :class:`RouteTableDef` or ``web.get(...)`` list).

        Returns:
            The registered routes.
        """
        registered: list[AbstractRoute] = []
        for route_def in routes:
            registered.extend(route_def.register(self))
        return registered

    def freeze(self) -> None:
        """Forbid registrations; resources finish their paths; plans are rebuilt lazily."""
        super().freeze()
        for resource in self._resources:
            resource.freeze()
        self._plans.clear()
        self._value_resolvers.clear()
        self._root_plan = None


def _check_name(name: str) -> None:
    """Route names are Python identifiers joined by ``.``, ``:`` or ``-``.

    Raises:
        ValueError: a part is a keyword or not an identifier.
    """
    for part in _NAME_SPLIT_RE.split(name):
        if keyword.iskeyword(part):
            raise ValueError(
                f"Incorrect route name {name!r}, python keywords cannot be used for route name"
            )
        if not part.isidentifier():
            raise ValueError(
                f"Incorrect route name {name!r}, the name should be a sequence of "
                "python identifiers separated by dash, dot or column"
            )
