"""A router that rules a path out in one regex test, and serves slash twins without copies.

FastAPI keeps included routers as nodes and, for every request, asks each of them in turn;
each asks every route it holds, and each route check swaps context in the request scope. With
about forty routers and a few hundred routes that walk cost several milliseconds for a route
near the end. A router here first tests the path against one regex made of all its routes'
paths (as a suffix, since a router may be included under a prefix); only a router that can
match walks its routes, so the answer is the same and the walk is over one router's routes.

Every route is also served with the trailing slash added or removed (Langflow's clients use
both). A hidden twin registered for the same endpoint and methods is not built as a second
route (each costs a few milliseconds of start-up and a place in every walk): the router keeps
its path as an alias and, for a request no route takes as it is, tries the twin path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match, compile_path
from starlette.types import Scope

# Named groups cannot repeat across the alternatives of one regex; the filter needs none.
_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")


def _union(patterns: Iterable[str]) -> re.Pattern[str]:
    # Unanchored at the start: a router included under a prefix sees the path with it.
    alternatives = (_NAMED_GROUP.sub("(?:", p).lstrip("^") for p in patterns)
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def twin_path(path: str) -> str:
    return path[:-1] if path.endswith("/") else f"{path}/"


class PrefilteredRouter(APIRouter):
    """An APIRouter whose `matches` first rules out paths none of its routes take."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._filter: re.Pattern[str] | None = None
        self._filtered_count = -1
        self.aliases: list[str] = []
        self._alias_filter: re.Pattern[str] | None = None
        self._alias_count = 0
        self._includes = False

    def _get_routes_version(self, seen: set[int] | None = None) -> int:
        # FastAPI asks this on every request, of every router on the way, and the base walks
        # each route to add the versions of the routers included below; none are included
        # below these routers, so their own count of changes is the whole answer.
        if self._includes:
            return super()._get_routes_version(seen)
        return self._routes_version

    def include_router(self, router: APIRouter, **kwargs: Any) -> None:
        self._includes = True
        super().include_router(router, **kwargs)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        full = self.prefix + path
        if not kwargs.get("include_in_schema", True) and self._serves(
            twin_path(full), endpoint, kwargs.get("methods")
        ):
            self.aliases.append(full)
            return
        super().add_api_route(path, endpoint, **kwargs)

    def _serves(self, path: str, endpoint: Callable[..., Any], methods: Any) -> bool:
        wanted = {m.upper() for m in methods or ("GET",)}
        return any(
            isinstance(r, APIRoute)
            and r.path == path
            and r.endpoint is endpoint
            and wanted <= (r.methods or set())
            for r in self.routes
        )

    def _aliases(self) -> re.Pattern[str] | None:
        # Compiled at the first request: recompiling as each alias is added costs start-up.
        if self._alias_count != len(self.aliases):
            self._alias_filter = _union(compile_path(p)[0].pattern for p in self.aliases)
            self._alias_count = len(self.aliases)
        return self._alias_filter

    def _path_filter(self) -> re.Pattern[str] | None:
        # Routes are added while modules load; the filter follows the list as it grows.
        if self._filtered_count != len(self.routes):
            plain = all(isinstance(r, APIRoute) for r in self.routes)
            patterns = (r.path_regex.pattern for r in self.routes)  # type: ignore[attr-defined]
            self._filter = _union(patterns) if plain and self.routes else None
            self._filtered_count = len(self.routes)
        return self._filter

    def _matches(self, scope: Scope) -> tuple[Match, Scope]:
        path_filter = self._path_filter()
        if (
            path_filter is not None
            and scope["type"] == "http"
            and path_filter.search(get_route_path(scope)) is None
        ):
            return Match.NONE, {}
        return super().matches(scope)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        found = self._matches(scope)
        aliases = self._aliases()
        if found[0] is Match.FULL or aliases is None or scope["type"] != "http":
            return found
        if aliases.search(get_route_path(scope)) is None:
            return found
        # The twin's path stays in the scope for the route that takes it (FastAPI matches
        # again when it handles the request). A route taking the path as it is comes first;
        # a twin taking it fully wins over a route that only lacks the method.
        original = scope["path"]
        scope["path"] = twin_path(original)
        twin = self._matches(scope)
        if twin[0] is Match.FULL or (found[0] is Match.NONE and twin[0] is Match.PARTIAL):
            return twin
        scope["path"] = original
        return found
