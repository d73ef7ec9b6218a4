"""Routes under a path prefix that names something: ``/t/{tenant}`` and ``/{profile}``.

Every route is served under those prefixes too. Registered with aiohttp once for each prefix
they would be some 140 more path patterns, each compiled at start-up (about 12 ms in all) and
tried in turn for every request under a prefix. Instead each prefix is one aiohttp resource,
``PrefixedRoutes``: it reads the prefix's segment itself and looks the rest of the path up in a
``RouteTable`` of the routes registered without a prefix (as ``create_app`` made them), so a
request reaches the same route, and handler, whatever its prefix, the segment added to its match
(``match_info["tenant"]``); its ``match_info.route.resource`` is the route's own, unprefixed.

It is built on aiohttp's public resource interface (``AbstractResource``, a resource's routes and
``get_info()``, ``UrlMappingMatchInfo``) and follows its router where it looks a path up: a plain
path, then the patterns with the longest literal start first, each matched against the decoded
path aiohttp matches (``URL.path_safe``), a variable's value with "/" and "%" decoded. The
tests run every route under every prefix at the lowest and the newest aiohttp declared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from aiohttp import hdrs, web
from yarl import URL

Resolved = tuple["web.UrlMappingMatchInfo | None", set[str]]
Routes = dict[str, web.AbstractRoute]  # a resource's routes, by method

# A tenant's name holds no "%": a byte that is not UTF-8 stays percent-encoded in the path
# aiohttp decodes, where it would be the same name as its encoded "%25" spelling.
_TENANT = r"[^{}/%]+"
_ANY = r"[^{}/]+"  # what aiohttp's own ``{name}`` matches


class RouteTable:
    """The routes of resources registered without a prefix, found by path and method as
    aiohttp's router finds them: a plain path first, then the patterns whose literal start is
    longest (in the order registered where two are as long), then each ``PrefixedRoutes`` in
    the table (a profile's prefix under a tenant's)."""

    def __init__(self, resources: Iterable[web.AbstractResource]) -> None:
        self._plain: dict[str, list[Routes]] = {}
        patterns: list[tuple[int, re.Pattern[str], Routes]] = []
        self._prefixed: list[PrefixedRoutes] = []
        for resource in resources:
            if isinstance(resource, PrefixedRoutes):
                self._prefixed.append(resource)
                continue
            routes = {route.method: route for route in resource}
            info = resource.get_info()
            if "path" in info:  # a PlainResource
                self._plain.setdefault(info["path"], []).append(routes)
            elif "pattern" in info:  # a DynamicResource, tried in the order of aiohttp's index
                literal = resource.canonical.partition("{")[0].rpartition("/")[0]
                patterns.append((len(literal), info["pattern"], routes))
            else:
                raise TypeError(f"{resource!r} cannot be served under a prefix")
        patterns.sort(key=lambda entry: -entry[0])  # stable: registration order within a length
        self._patterns = [(pattern, routes) for _, pattern, routes in patterns]

    def match(self, path: str, method: str, bound: dict[str, str]) -> Resolved:
        """The route ``method path`` reaches, its match holding ``bound`` and the path's
        variables; or None and the methods the path's resources take."""
        allowed: set[str] = set()
        for routes in self._plain.get(path, ()):
            if (found := _chosen(routes, method, bound, allowed)) is not None:
                return found, allowed
        for pattern, routes in self._patterns:
            if (matched := pattern.fullmatch(path)) is not None:
                variables = {key: _unquoted(value) for key, value in matched.groupdict().items()}
                if (found := _chosen(routes, method, bound | variables, allowed)) is not None:
                    return found, allowed
        for prefixed in self._prefixed:
            found, methods = prefixed.match(path, method, bound)
            if found is not None:
                return found, allowed
            allowed |= methods
        return None, allowed


class PrefixedRoutes(web.AbstractResource):
    """``{lead}{segment}`` followed by any path of ``table``: the route that path reaches, the
    segment in its match as ``variable``."""

    def __init__(self, lead: str, variable: str, segment: str, table: RouteTable) -> None:
        super().__init__()
        self._lead = lead
        self._variable = variable
        self._segment = re.compile(segment)
        self._table = table

    @property
    def canonical(self) -> str:
        return f"{self._lead}{{{self._variable}}}"

    def url_for(self, **parts: str) -> URL:
        return URL.build(path=self._lead + parts[self._variable])

    def add_prefix(self, prefix: str) -> None:
        """Mounted as a sub-application: the table's routes are under ``prefix`` too, and
        keep matching the rest of the path as they did when the table was made."""
        self._lead = prefix + self._lead

    def get_info(self) -> dict[str, str]:
        return {"formatter": self.canonical}

    def raw_match(self, path: str) -> bool:
        return False  # no route is added to it by its path: its routes are the table's

    async def resolve(self, request: web.Request) -> Resolved:
        return self.match(request.rel_url.path_safe, request.method, {})

    def match(self, path: str, method: str, bound: dict[str, str]) -> Resolved:
        """As ``RouteTable.match``, for ``path`` with the prefix before it."""
        if not path.startswith(self._lead):
            return None, set()
        name, slash, rest = path[len(self._lead) :].partition("/")
        if not slash or self._segment.fullmatch(name) is None:
            return None, set()
        return self._table.match(slash + rest, method, {**bound, self._variable: _unquoted(name)})

    # Its routes are the table's, listed where they are registered: ``app.router.routes()``
    # names each route once.
    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[web.AbstractRoute]:
        return iter(())


def prefixed_routes(
    admin: list[web.AbstractResource], api: list[web.AbstractResource]
) -> list[PrefixedRoutes]:
    """The resources to register after ``admin`` (the admin API's and the inspector's) and
    ``api`` (the APIs'): ``/t/{tenant}`` before any of them, ``/{profile}`` before the APIs',
    under a tenant's prefix too."""
    under_profile = RouteTable(api)

    def profiles() -> PrefixedRoutes:  # one in each place: mounting the app moves the outer one
        return PrefixedRoutes("/", "profile", _ANY, under_profile)

    tenants = PrefixedRoutes("/t/", "tenant", _TENANT, RouteTable([*admin, *api, profiles()]))
    return [tenants, profiles()]


def with_tenants(resources: list[web.AbstractResource]) -> RouteTable:
    """The routes of ``resources`` as they are and under ``/t/{tenant}``."""
    tenants = PrefixedRoutes("/t/", "tenant", _TENANT, RouteTable(resources))
    return RouteTable([*resources, tenants])


def _chosen(
    routes: Routes, method: str, variables: dict[str, str], allowed: set[str]
) -> web.UrlMappingMatchInfo | None:
    allowed.update(routes)
    route = routes.get(method) or routes.get(hdrs.METH_ANY)
    return None if route is None else web.UrlMappingMatchInfo(variables, route)


def _unquoted(value: str) -> str:
    """A variable's value as aiohttp gives it: the path it matches in (``URL.path_safe``) keeps
    "/" and "%" percent-encoded, aiohttp decodes them in the value."""
    if "%" not in value:
        return value
    return value.replace("%2F", "/").replace("%25", "%")
