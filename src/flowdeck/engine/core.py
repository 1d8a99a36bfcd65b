"""The engine: compiles flows and runs them. Holds configuration and shared clients only."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from flowdeck.engine.components.base import Component
from flowdeck.engine.components.registry import ComponentRegistry, default_registry
from flowdeck.engine.context import RunControl
from flowdeck.engine.events import EventSink, NullSink
from flowdeck.engine.executor import Executor
from flowdeck.engine.flowfile import FlowSpec, parse_flow
from flowdeck.engine.graph import Graph, compile_graph
from flowdeck.engine.netpolicy import NetworkPolicy
from flowdeck.engine.plan import RunRequest
from flowdeck.engine.registries import Registries
from flowdeck.engine.results import RunResult
from flowdeck.errors import InvalidInputError

if TYPE_CHECKING:
    import httpx

# Sub-flows may nest, but not without end (a flow that calls itself).
MAX_SUBFLOW_DEPTH = 8


class FlowResolver(Protocol):
    """Finds the flow a SubFlow component names (a file path, a stored flow id or name)."""

    async def resolve(self, ref: str, parent: Graph) -> FlowSpec: ...


class Engine:
    """Compiles and runs flows; one per process, shared by every run in it."""

    def __init__(
        self,
        registry: ComponentRegistry | None = None,
        *,
        allow_custom_code: bool = False,
        flow_resolver: FlowResolver | None = None,
        run_timeout: float | None = None,
        vertex_timeout: float | None = None,
        network: NetworkPolicy | None = None,
        registries: Registries | None = None,
    ) -> None:
        self.registry = registry or default_registry()
        self.allow_custom_code = allow_custom_code
        self.flow_resolver = flow_resolver
        self.run_timeout = run_timeout
        self.vertex_timeout = vertex_timeout
        # What components may reach; by default public addresses only.
        self.network = network or NetworkPolicy()
        self._http: httpx.AsyncClient | None = None
        # What runs look up in their tenant (registered models, MCP servers); set by a host.
        self.registries = registries

    def compile(
        self,
        flow: FlowSpec | Mapping[str, Any],
        tweaks: Mapping[str, Any] | None = None,
        stored: Sequence[type[Component]] = (),
    ) -> Graph:
        """Parse (if needed) and validate a flow; raises FlowValidationError listing every issue.

        `stored` are the tenant's stored components the flow names (`stored_components`).
        """
        spec = flow if isinstance(flow, FlowSpec) else parse_flow(flow)
        return compile_graph(spec, self.registry.extended(stored), tweaks)

    async def stored_components(
        self, spec: FlowSpec, tenant_id: str | None
    ) -> list[type[Component]]:
        """The stored components of the tenant that the flow's unknown node types name.

        A flow of built-in types only asks nothing; stored names never shadow built-ins.
        """
        return await self.stored_named(self.unknown_types(spec), tenant_id)

    def unknown_types(self, spec: FlowSpec) -> frozenset[str]:
        """The flow's node types that are not built in: stored components, or mistakes."""
        return frozenset(n.type for n in spec.nodes if n.type not in self.registry)

    async def stored_named(
        self, names: Collection[str], tenant_id: str | None
    ) -> list[type[Component]]:
        """The tenant's stored components of these names, in name order."""
        if not names or tenant_id is None or self.registries is None:
            return []
        return await self.registries.components(tenant_id, names)

    async def run(
        self,
        graph: Graph,
        request: RunRequest | None = None,
        *,
        sink: EventSink | None = None,
        control: RunControl | None = None,
        run_id: str | None = None,
        flow_id: str | None = None,
    ) -> RunResult:
        """Run a compiled graph to the end (completed, failed or cancelled)."""
        executor = Executor(
            self,
            graph,
            request or RunRequest(),
            sink or NullSink(),
            control or RunControl(),
            run_id or uuid.uuid4().hex,
            flow_id,
        )
        return await executor.run()

    async def run_subflow(
        self,
        parent: Executor,
        ref: str,
        input_value: str | None,
        tweaks: Mapping[str, Any] | None,
    ) -> RunResult:
        if parent.depth >= MAX_SUBFLOW_DEPTH:
            raise InvalidInputError(f"sub-flows nest deeper than {MAX_SUBFLOW_DEPTH} levels")
        if self.flow_resolver is None:
            raise InvalidInputError("this host cannot load sub-flows", field="flow")
        spec = await self.flow_resolver.resolve(ref, parent.graph)
        stored = await self.stored_components(spec, parent.request.tenant_id)
        graph = compile_graph(spec, self.registry.extended(stored), tweaks)
        request = RunRequest(
            input_value=input_value,
            input_type="any",
            session_id=parent.session_id,
            tenant_id=parent.request.tenant_id,
        )
        child = Executor(
            self,
            graph,
            request,
            NullSink(),
            parent.control,
            f"{parent.run_id}.sub",
            parent.flow_id,
            parent.depth + 1,
        )
        return await child.run()

    def http_client(self) -> httpx.AsyncClient:
        """One pooled HTTP client for every component of every run, under the network policy."""
        if self._http is None:
            from flowdeck.engine.netguard import guarded_client

            self._http = guarded_client(self.network, timeout=30.0)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
