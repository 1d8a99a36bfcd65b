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


class GraphCache:
    """Compiled graphs keyed by what they were compiled from; tweaked graphs are not kept."""

    def __init__(self, engine: Engine, size: int = 256) -> None:
        self.engine = engine
        self.size = size
        self._graphs: OrderedDict[tuple[Any, ...], Graph] = OrderedDict()

    def compile(
        self,
        key: tuple[Any, ...] | None,
        data: dict[str, Any],
        tweaks: dict[str, Any] | None = None,
        name: str = "",
    ) -> Graph:
        if tweaks or key is None:
            return self._compile(data, tweaks, name)
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._compile(data, None, name)
            self._graphs[key] = graph
            if len(self._graphs) > self.size:
                self._graphs.popitem(last=False)
        else:
            self._graphs.move_to_end(key)
        return graph

    def _compile(self, data: dict[str, Any], tweaks: dict[str, Any] | None, name: str) -> Graph:
        spec: FlowSpec = parse_flow(data)
        spec.name = spec.name or name
        return self.engine.compile(spec, tweaks)

    def for_flow(self, flow: Flow, tweaks: dict[str, Any] | None = None) -> Graph:
        key = ("flow", flow.id, flow_stamp(flow))
        return self.compile(key, flow.data or {"nodes": [], "edges": []}, tweaks, flow.name)

    def cached_flow(self, flow_id: str, stamp: str) -> Graph | None:
        """The compiled graph of that version of a flow, if it is here (untweaked)."""
        graph = self._graphs.get(("flow", flow_id, stamp))
        if graph is not None:
            self._graphs.move_to_end(("flow", flow_id, stamp))
        return graph

    def for_version(self, version: FlowVersion, tweaks: dict[str, Any] | None = None) -> Graph:
        return self.compile(
            ("version", version.id),
            version.data or {"nodes": [], "edges": []},
            tweaks,
            version.name,
        )


class DbGraphSource:
    """GraphSource for workers: the run's snapshot, else its flow version, else the flow."""

    def __init__(self, db: Database, cache: GraphCache) -> None:
        self.db = db
        self.cache = cache

    async def graph_for(self, run: Run, flow_stamp: str | None = None) -> Graph:
        tweaks = (run.request or {}).get("tweaks") or None
        if run.graph is not None:
            return self.cache.compile(None, run.graph, tweaks)
        if flow_stamp and run.flow_id and run.flow_version_id is None and not tweaks:
            graph = self.cache.cached_flow(run.flow_id, flow_stamp)
            if graph is not None:
                return graph
        async with self.db.read_sessions() as session:
            if run.flow_version_id is not None:
                version = await session.get(FlowVersion, run.flow_version_id)
                if version is None:
                    raise NotFoundError(f"flow version {run.flow_version_id} no longer exists")
                return self.cache.for_version(version, tweaks)
            flow = await session.get(Flow, run.flow_id) if run.flow_id else None
            if flow is None:
                raise NotFoundError(f"flow {run.flow_id} no longer exists")
            return self.cache.for_flow(flow, tweaks)


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
