"""Compiled graphs for runs, with a small cache so hot flows are compiled once."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.database import Database
from flowdeck.db.models import Flow, FlowVersion, Run
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.flows import FlowRepository, FlowVersionRepository
from flowdeck.engine import Engine, FlowSpec, Graph, parse_flow
from flowdeck.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class _Kept:
    graph: Graph
    names: frozenset[str]  # the stored components it was compiled with, by name
    stored: tuple[type[Any], ...]  # and their classes, in name order


class GraphCache:
    """Compiled graphs keyed by what they were compiled from; tweaked graphs are not kept.

    A graph using a tenant's stored components is kept with their classes: a hit asks the
    registry for those names again (a light read) and is used only if it gives the same
    classes, which it does while the components are unchanged (StoredLookup keeps them). So
    a component's new version applies to the next run. A stored component cannot take a
    built-in's name, so a graph of built-in types alone is never stale.
    """

    def __init__(self, engine: Engine, size: int = 256) -> None:
        self.engine = engine
        self.size = size
        self._graphs: OrderedDict[tuple[Any, ...], _Kept] = OrderedDict()

    async def compile(
        self,
        key: tuple[Any, ...] | None,
        data: dict[str, Any],
        tweaks: dict[str, Any] | None = None,
        name: str = "",
        tenant_id: str | None = None,
    ) -> Graph:
        keep = key is not None and not tweaks
        if keep:
            hit = self._graphs.get(key)  # type: ignore[arg-type]
            if hit is not None and (
                not hit.names
                or tuple(await self.engine.stored_named(hit.names, tenant_id)) == hit.stored
            ):
                self._graphs.move_to_end(key)  # type: ignore[arg-type]
                return hit.graph
        spec: FlowSpec = parse_flow(data)
        spec.name = spec.name or name
        names = self.engine.unknown_types(spec)
        stored = await self.engine.stored_named(names, tenant_id)
        graph = self.engine.compile(spec, tweaks, stored)
        if keep:
            self._graphs[key] = _Kept(graph, names, tuple(stored))  # type: ignore[index]
            if len(self._graphs) > self.size:
                self._graphs.popitem(last=False)
        return graph

    async def for_flow(self, flow: Flow, tweaks: dict[str, Any] | None = None) -> Graph:
        key = ("flow", flow.id, flow_stamp(flow))
        data = flow.data or {"nodes": [], "edges": []}
        return await self.compile(key, data, tweaks, flow.name, flow.tenant_id)

    def cached_flow(self, flow_id: str, stamp: str) -> Graph | None:
        """The compiled graph of that version of a flow, if it is here (untweaked)."""
        hit = self._graphs.get(("flow", flow_id, stamp))
        if hit is None or hit.names:  # stored components are checked by `compile`
            return None
        self._graphs.move_to_end(("flow", flow_id, stamp))
        return hit.graph

    async def for_version(
        self, version: FlowVersion, tweaks: dict[str, Any] | None = None
    ) -> Graph:
        return await self.compile(
            ("version", version.id),
            version.data or {"nodes": [], "edges": []},
            tweaks,
            version.name,
            version.tenant_id,
        )


class DbGraphSource:
    """GraphSource for workers: the run's snapshot, else its flow version, else the flow."""

    def __init__(self, db: Database, cache: GraphCache) -> None:
        self.db = db
        self.cache = cache

    async def graph_for(self, run: Run, flow_stamp: str | None = None) -> Graph:
        tweaks = (run.request or {}).get("tweaks") or None
        if run.graph is not None:
            return await self.cache.compile(None, run.graph, tweaks, tenant_id=run.tenant_id)
        if flow_stamp and run.flow_id and run.flow_version_id is None and not tweaks:
            graph = self.cache.cached_flow(run.flow_id, flow_stamp)
            if graph is not None:
                return graph
        async with self.db.read_sessions() as session:
            if run.flow_version_id is not None:
                version = await session.get(FlowVersion, run.flow_version_id)
                if version is None:
                    raise NotFoundError(f"flow version {run.flow_version_id} no longer exists")
                return await self.cache.for_version(version, tweaks)
            flow = await session.get(Flow, run.flow_id) if run.flow_id else None
            if flow is None:
                raise NotFoundError(f"flow {run.flow_id} no longer exists")
            return await self.cache.for_flow(flow, tweaks)


def flow_stamp(flow: Flow) -> str:
    """Which version of a flow a graph was compiled from: its last change."""
    return flow.updated_at.isoformat() if flow.updated_at else ""


def snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """A deep, JSON-clean copy of a graph to store with a run."""
    result: dict[str, Any] = orjson.loads(orjson.dumps(data))
    return result


@dataclass(frozen=True)
class RanGraph:
    """The graph a run executed, and where it was found."""

    source: Literal["run", "version", "flow"]
    data: dict[str, Any]
    version_id: int | None = None
    version: str | None = None
    # Only for source "flow" (a draft run): the flow was edited after the run was created,
    # so its graph may differ from what ran.
    changed_since: bool = False


async def graph_that_ran(session: AsyncSession, scope: Scope, run: Run) -> RanGraph:
    """The run's snapshot, else its flow version, else its flow's current draft (what
    DbGraphSource ran); NotFoundError when none of them is left."""
    if run.graph is not None:
        return RanGraph("run", run.graph)
    if run.flow_id is not None and run.flow_version_id is not None:
        version = await FlowVersionRepository(session, scope).find_in(
            run.flow_id, run.flow_version_id
        )
        if version is not None:
            return RanGraph("version", version.data or {}, version.id, version.version)
    flow = await FlowRepository(session, scope).find(run.flow_id) if run.flow_id else None
    if flow is None or run.flow_version_id is not None:
        raise NotFoundError(f"the graph run {run.id} executed is gone", field="run_id")
    edited = flow.updated_at is not None and flow.updated_at > run.created_at
    return RanGraph("flow", flow.data or {}, changed_since=edited)
