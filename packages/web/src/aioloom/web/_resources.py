"""Resources: the paths a router knows, and the routes (one per method) on each.

* :class:`PlainResource`: a fixed path, matched by string equality (the router finds it by
  dict lookup).
* :class:`DynamicResource`: a path with variables, ``/users/{id}`` (one segment, anything
  but ``/``) or ``/files/{path:.+}`` (a regex of your own); matched by a precompiled regex.
* Prefixes and sub-applications (``PrefixedSubAppResource``, ``MatchedSubAppResource``, the
  domain rules) live in ``_subapp_resources``.

The router does not await a resource's ``resolve`` for these: it calls the synchronous
``(path, method)`` function ``Resource._resolver()`` gives, which for the built-in classes
has the match inlined and fills a match info without running its ``__init__`` (a
subclass that overrides ``_match`` gets the generic ``_resolve_path``, so it is still
asked).

The static file resource lives in ``_static``. Route paths are written decoded
(``/caf\\u00e9``, ``/a b``): they are matched against the request's ``path_safe`` form and
percent-encoded when a URL is built, so ``url_for`` always gives a URL that resolves back to
the same resource with the same variable values.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Final

from yarl import URL

from aioloom.http import hdrs

from ._routing import (
    NO_METHODS,
    AbstractResource,
    ExpectHandler,
    HandlerOrView,
    InfoDict,
    Resolve,
    ResourceRoute,
    UrlMappingMatchInfo,
    new_match_info,
    quote_path,
    quote_segment,
    safe_form,
    unquote_path_safe,
)

if TYPE_CHECKING:
    from ._request import Request

__all__ = (
    "DynamicResource",
    "PlainResource",
    "Resource",
)

# A variable, with one level of nested braces allowed in its regex: {id:\d{3}}.
ROUTE_RE: Final = re.compile(r"(\{[_a-zA-Z][^{}]*(?:\{[^{}]*\}[^{}]*)*\})")
_VAR: Final = re.compile(r"\{(?P<var>[_a-zA-Z][_a-zA-Z0-9]*)\}")
_VAR_WITH_RE: Final = re.compile(r"\{(?P<var>[_a-zA-Z][_a-zA-Z0-9]*):(?P<re>.+)\}")
_SEGMENT: Final = r"[^/]+"
# Regex features whose meaning changes when the pattern is one alternative of a larger
# regex (group numbers shift, names collide): such resources are matched on their own.
_NOT_COMBINABLE: Final = re.compile(r"\\[1-9]|\\g<|\(\?P[<=]|\(\?\(|\(\?[aiLmsux]+\)")


def _check_prefix(prefix: str) -> None:
    if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
        raise ValueError(f"Bad prefix {prefix!r}: it starts with / and does not end with /")


class Resource(AbstractResource):
    """A path resource holding one route per method (or one for every method, ``*``)."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._routes: dict[str, ResourceRoute] = {}
        self._any_route: ResourceRoute | None = None
        self._allowed_methods: set[str] = set()
        # Set by the router: told when a route is added (its matching plan changes).
        self._on_change: Callable[[AbstractResource], None] | None = None

    def add_route(
        self,
        method: str,
        handler: HandlerOrView,
        *,
        expect_handler: ExpectHandler | None = None,
    ) -> ResourceRoute:
        """Register ``handler`` for ``method`` (``*``: any method) on this resource.

        Raises:
            RuntimeError: the method (or ``*``) already has a route here.
        """
        existing = self._routes.get(method.upper(), self._any_route)
        if existing is not None:
            raise RuntimeError(
                "Added route will never be executed, "
                f"method {existing.method} is already registered"
            )
        route = ResourceRoute(method, handler, self, expect_handler=expect_handler)
        self.register_route(route)
        return route

    def register_route(self, route: ResourceRoute) -> None:
        """Add an already built route.

        Raises:
            TypeError: ``route`` is not a :class:`ResourceRoute`.
        """
        if not isinstance(route, ResourceRoute):
            raise TypeError(f"Instance of Route class is required, got {route!r}")
        if route.method == hdrs.METH_ANY:
            self._any_route = route
        self._allowed_methods.add(route.method)
        self._routes[route.method] = route
        if self._on_change is not None:
            self._on_change(self)

    async def resolve(self, request: Request) -> Resolve:
        """Match the request's path, then pick the route of its method."""
        return self._resolve_path(request.rel_url.path_safe, request.method)

    def _resolve_path(self, path: str, method: str) -> Resolve:
        """The synchronous body of :meth:`resolve` (the router calls it directly)."""
        match_dict = self._match(path)
        if match_dict is None:
            return None, NO_METHODS
        route = self._routes.get(method, self._any_route)
        if route is None:
            return None, self._allowed_methods
        return UrlMappingMatchInfo(match_dict, route), self._allowed_methods

    def _resolver(self) -> Callable[[str, str], Resolve]:
        """The ``(path, method) -> Resolve`` function the router calls for this resource.

        :meth:`_resolve_path` here; the built-in resources give a specialised one when
        their class keeps their own ``_match``.
        """
        return self._resolve_path

    @abc.abstractmethod
    def _match(self, path: str) -> dict[str, str] | None:
        """The path's variables if ``path`` (``path_safe`` form) matches, else None."""

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[ResourceRoute]:
        return iter(self._routes.values())


class PlainResource(Resource):
    """A resource with a fixed path.

    Args:
        path: the decoded path (``""`` is the root of a sub-application: its prefix).
        name: the resource's name.
    """

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if path and not path.startswith("/"):
            raise ValueError("path should be started with / or be empty")
        self._orig_path = path
        self._path = path
        self._safe_path = safe_form(path)

    @property
    def canonical(self) -> str:
        """The path, percent-encoded."""
        return quote_path(self._path)

    def freeze(self) -> None:
        """An empty path becomes ``/`` (after any sub-application prefix was added)."""
        if not self._path:
            self._path = "/"
            self._safe_path = "/"

    def add_prefix(self, prefix: str) -> None:
        """Put a sub-application's prefix in front of the path."""
        _check_prefix(prefix)
        self._path = prefix + self._path
        self._safe_path = safe_form(self._path)

    def _match(self, path: str) -> dict[str, str] | None:
        return {} if path == self._safe_path else None

    def _resolver(self) -> Callable[[str, str], Resolve]:
        if type(self)._match is PlainResource._match:
            return self._resolve_plain
        return self._resolve_path

    def _resolve_plain(self, path: str, method: str) -> Resolve:
        """:meth:`_resolve_path` with the string comparison of :meth:`_match` inlined."""
        if path != self._safe_path:
            return None, NO_METHODS
        route = self._routes.get(method, self._any_route)
        if route is None:
            return None, self._allowed_methods
        info = new_match_info(UrlMappingMatchInfo)
        info._route = route
        info._apps = ()
        info._current_app = None
        info._frozen = False
        return info, self._allowed_methods

    def raw_match(self, path: str) -> bool:
        """True when ``path`` is the path this resource was registered with."""
        return self._orig_path == path

    def _index_key(self) -> str | None:
        return self._safe_path.rstrip("/") or "/"

    def get_info(self) -> InfoDict:
        """``{"path": ...}``."""
        return {"path": self._path}

    def url_for(self) -> URL:  # type: ignore[override]
        """The resource's URL."""
        return URL.build(path=quote_path(self._path or "/"), encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<PlainResource {name} {self._path}>"


class DynamicResource(Resource):
    """A resource whose path has variables: ``{name}`` or ``{name:regex}``.

    ``{name}`` matches one path segment (no ``/``); ``{name:regex}`` matches ``regex``.
    The values in the match info are decoded (an encoded ``%2F`` gives ``/``).

    Args:
        path: the decoded path pattern.
        name: the resource's name.

    Raises:
        ValueError: a brace is misplaced, a variable repeats or the regex is invalid.
    """

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if not path.startswith("/"):
            raise ValueError("path should be started with /")
        self._orig_path = path
        self._parsed = _ParsedPattern(path)
        self._prefix = ""
        self._compile()

    def _compile(self) -> None:
        parsed = self._parsed
        prefix = re.escape(safe_form(self._prefix))
        source = prefix + parsed.regex
        try:
            self._pattern = re.compile(source)
        except re.error as exc:
            raise ValueError(f"Bad pattern '{source}': {exc}") from None
        self._anonymous_source = prefix + parsed.anonymous
        self._formatter = (quote_path(self._prefix) if self._prefix else "") + parsed.formatter
        self._safe_canonical = safe_form(self._prefix) + parsed.canonical
        self._var = parsed.var  # "" unless the pattern has one plain {name}
        # Where the value starts in a pattern ``<index key>/{name}`` (0: another shape).
        self._tail_start = 0
        if parsed.tail:
            head = safe_form(self._prefix) + parsed.head
            if head == self._index_key().rstrip("/") + "/":
                self._tail_start = len(head)

    @property
    def canonical(self) -> str:
        """The path with percent-encoded fixed parts, e.g. ``/users/{id}``."""
        return self._formatter

    @property
    def combinable(self) -> bool:
        """True when the regex keeps its meaning as one alternative of a larger regex."""
        return self._parsed.combinable

    @property
    def anonymous_source(self) -> str:
        """The full-match regex with unnamed groups (one alternative of the router's)."""
        return self._anonymous_source

    def add_prefix(self, prefix: str) -> None:
        """Put a sub-application's prefix in front of the path."""
        _check_prefix(prefix)
        self._prefix = prefix + self._prefix
        self._compile()

    def _match(self, path: str) -> dict[str, str] | None:
        match = self._pattern.fullmatch(path)
        if match is None:
            return None
        if "%" not in path:  # nothing to decode (the common case): the groups as they are
            return match.groupdict()
        return {key: unquote_path_safe(value) for key, value in match.groupdict().items()}

    def _resolver(self) -> Callable[[str, str], Resolve]:
        if type(self)._match is not DynamicResource._match:
            return self._resolve_path
        return self._resolve_pattern

    def _walk_resolver(self) -> Callable[[str, str], Resolve]:
        """The resolver for the router's walk, which calls it only for a path that starts
        with this resource's index key followed by ``/`` or nothing.

        For ``<index key>/{name}`` (the common ``/users/{id}``) that is
        :meth:`_resolve_tail`: what is left to check is the last segment, no regex.
        """
        if self._value_resolver() is not None:
            return self._resolve_tail
        return self._resolver()

    def _value_resolver(self) -> Callable[[str, str], UrlMappingMatchInfo | None] | None:
        """:meth:`_resolve_value` when this is a built-in ``<index key>/{name}`` resource.

        The router calls it with the last segment of a path whose parent is the index key.
        """
        cls = type(self)
        if (
            self._tail_start
            and cls._match is DynamicResource._match
            and cls._resolver is DynamicResource._resolver
        ):
            return self._resolve_value
        return None

    def _resolve_tail(self, path: str, method: str) -> Resolve:
        """:meth:`_resolve_pattern` for ``<index key>/{name}`` when the key is known to match.

        The value is the rest of the path: one segment, non-empty, with no ``/`` (what
        ``[^/]+`` matches), decoded as :meth:`_match` decodes it.
        """
        value = path[self._tail_start :]
        if not value or "/" in value:
            return None, NO_METHODS
        return self._resolve_value(value, method), self._allowed_methods

    def _resolve_value(self, value: str, method: str) -> UrlMappingMatchInfo | None:
        """The match of a path whose ``{name}`` segment is ``value`` (non-empty, no ``/``).

        None when no route serves ``method``.
        """
        route = self._routes.get(method, self._any_route)
        if route is None:
            return None
        info = new_match_info(UrlMappingMatchInfo)
        info[self._var] = unquote_path_safe(value) if "%" in value else value
        info._route = route
        info._apps = ()
        info._current_app = None
        info._frozen = False
        return info

    def _resolve_pattern(self, path: str, method: str) -> Resolve:
        """:meth:`_resolve_path` with :meth:`_match` inlined and no ``__init__`` call.

        A pattern of one plain ``{name}`` (the common case) reads the regex's one group
        instead of building a groupdict.
        """
        match = self._pattern.fullmatch(path)
        if match is None:
            return None, NO_METHODS
        route = self._routes.get(method, self._any_route)
        if route is None:
            return None, self._allowed_methods
        info = new_match_info(UrlMappingMatchInfo)
        if self._var:
            value = match[1]
            info[self._var] = unquote_path_safe(value) if "%" in value else value
        elif "%" not in path:  # nothing to decode: the groups as they are
            info.update(match.groupdict())
        else:
            for key, value in match.groupdict().items():
                info[key] = unquote_path_safe(value)
        info._route = route
        info._apps = ()
        info._current_app = None
        info._frozen = False
        return info, self._allowed_methods

    def raw_match(self, path: str) -> bool:
        """True when ``path`` is the pattern this resource was registered with."""
        return self._orig_path == path

    def _index_key(self) -> str:
        key = self._safe_canonical.partition("{")[0].rpartition("/")[0]
        return key.rstrip("/") or "/"

    def get_info(self) -> InfoDict:
        """``{"formatter": ..., "pattern": ...}``."""
        return {"formatter": self._formatter, "pattern": self._pattern}

    def url_for(self, **parts: str) -> URL:
        """Build the URL from the variables' decoded values.

        A ``{name}`` value is one segment (its ``/`` is encoded as ``%2F``); a
        ``{name:regex}`` value keeps ``/`` as separators.

        Raises:
            KeyError: a variable is missing.
        """
        segment_vars = self._parsed.segment_vars
        quoted = {
            key: quote_segment(value) if key in segment_vars else quote_path(value)
            for key, value in parts.items()
        }
        return URL.build(path=self._formatter.format_map(quoted), encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<DynamicResource {name} {self._formatter}>"


class _ParsedPattern:
    """A route pattern split into the forms a :class:`DynamicResource` needs."""

    __slots__ = (
        "anonymous",
        "canonical",
        "combinable",
        "formatter",
        "head",
        "regex",
        "segment_vars",
        "tail",
        "var",
    )

    def __init__(self, path: str) -> None:
        regex: list[str] = []  # with a named group per variable
        anonymous: list[str] = []  # the same, groups unnamed: for the combined regex
        formatter: list[str] = []  # percent-encoded fixed parts, {var} for variables
        canonical: list[str] = []  # path_safe fixed parts, {var} for variables
        segment_vars: set[str] = set()
        variables = 0
        self.combinable = True
        parts = ROUTE_RE.split(path)
        for part in parts:
            match = _VAR.fullmatch(part)
            if match is not None:
                var, var_re = match.group("var"), _SEGMENT
                segment_vars.add(var)
            else:
                match = _VAR_WITH_RE.fullmatch(part)
                if match is None:
                    if "{" in part or "}" in part:
                        raise ValueError(f"Invalid path '{path}'['{part}']")
                    literal = re.escape(safe_form(part))
                    regex.append(literal)
                    anonymous.append(literal)
                    formatter.append(quote_path(part) if part else "")
                    canonical.append(safe_form(part))
                    continue
                var, var_re = match.group("var"), match.group("re")
                if _NOT_COMBINABLE.search(var_re) is not None:
                    self.combinable = False
            variables += 1
            regex.append(f"(?P<{var}>{var_re})")
            anonymous.append(f"(?:{var_re})")
            formatter.append("{" + var + "}")
            canonical.append("{" + var + "}")
        self.regex = "".join(regex)
        self.anonymous = "".join(anonymous)
        self.formatter = "".join(formatter)
        self.canonical = "".join(canonical)
        self.segment_vars = frozenset(segment_vars)
        # The variable of a pattern with exactly one, a plain {name}: its value is the
        # regex's only group, read without building a groupdict.
        self.var = ""
        if variables == 1 and len(segment_vars) == 1:
            (self.var,) = segment_vars
        # ``head{name}``: the one plain variable is the whole end of the pattern.
        # ``ROUTE_RE.split`` gives [head, "{name}", ""] for that shape.
        self.head = safe_form(parts[0])
        self.tail = bool(self.var) and len(parts) == 3 and not parts[2]
