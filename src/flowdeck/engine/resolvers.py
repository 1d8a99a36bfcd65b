"""Flow resolvers: how a SubFlow component's `flow` reference becomes a FlowSpec."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flowdeck.engine.core import FlowResolver
from flowdeck.engine.flowfile import FlowSpec, load_flow_file, parse_flow
from flowdeck.engine.graph import Graph
from flowdeck.errors import NotFoundError, PermissionDeniedError


class FileFlowResolver:
    """Resolves a flow file path; a relative path is read against the parent flow's file.

    A parent with no source file (a flow built in memory) resolves against `base_dir`, or
    the working directory. With `root` set, paths outside it are refused, so a flow cannot
    read arbitrary files on a server.
    """

    def __init__(self, base_dir: str | Path | None = None, *, root: str | Path | None = None):
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.root = Path(root).resolve() if root is not None else None

    def locate(self, ref: str, parent: Graph) -> Path:
        """The absolute path `ref` names for a sub-flow of `parent`."""
        path = Path(ref).expanduser()
        if not path.is_absolute():
            if parent.source is not None:
                base = parent.source.parent
            else:
                base = self.base_dir if self.base_dir is not None else Path.cwd()
            path = base / path
        path = path.resolve()
        if self.root is not None and not path.is_relative_to(self.root):
            raise PermissionDeniedError(f"flow file {ref!r} is outside {self.root}", field="flow")
        return path

    async def resolve(self, ref: str, parent: Graph) -> FlowSpec:
        path = self.locate(ref, parent)
        if not path.is_file():
            raise NotFoundError(f"no flow file {ref!r} (looked at {path})", field="flow")
        # Reading and parsing a file is blocking work: keep it off the event loop.
        return await asyncio.to_thread(load_flow_file, path)


class MappingFlowResolver:
    """Resolves flows by id or name from an in-memory mapping (tests, embedded hosts)."""

    def __init__(self, flows: Mapping[str, FlowSpec | Mapping[str, Any]]) -> None:
        self._flows = dict(flows)

    async def resolve(self, ref: str, parent: Graph) -> FlowSpec:
        flow = self._flows.get(ref)
        if flow is None:
            raise NotFoundError(f"no flow named {ref!r}", field="flow")
        return flow if isinstance(flow, FlowSpec) else parse_flow(flow)


class ChainFlowResolver:
    """Tries resolvers in turn (say, stored flows, then files); the first that finds wins."""

    def __init__(self, resolvers: Sequence[FlowResolver]) -> None:
        self._resolvers = tuple(resolvers)

    async def resolve(self, ref: str, parent: Graph) -> FlowSpec:
        misses: list[str] = []
        for resolver in self._resolvers:
            try:
                return await resolver.resolve(ref, parent)
            except NotFoundError as exc:
                misses.append(exc.message)
        raise NotFoundError("; ".join(misses) or f"no flow {ref!r}", field="flow")
