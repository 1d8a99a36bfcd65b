"""The component registry: type names (and Langflow aliases) to component classes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from flowdeck.engine.components.base import Component


class ComponentRegistry:
    """Maps type names and aliases to one shared, stateless component instance."""

    def __init__(self, classes: Iterable[type[Component]] = ()) -> None:
        self._by_name: dict[str, Component] = {}
        self._primary: dict[str, Component] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type[Component]) -> None:
        instance = cls()
        for name in (cls.type_name, *cls.aliases):
            if name in self._by_name:
                raise ValueError(f"component type {name!r} is registered twice")
            self._by_name[name] = instance
        self._primary[cls.type_name] = instance

    def extended(self, classes: Iterable[type[Component]]) -> ComponentRegistry:
        """This registry and `classes` (a tenant's stored components); itself if none."""
        added = list(classes)
        if not added:
            return self
        wider = ComponentRegistry()
        wider._by_name = dict(self._by_name)
        wider._primary = dict(self._primary)
        for cls in added:
            wider.register(cls)
        return wider

    def get(self, type_name: str) -> Component | None:
        return self._by_name.get(type_name)

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._by_name

    def __iter__(self) -> Iterator[Component]:
        return iter(self._primary.values())

    def __len__(self) -> int:
        return len(self._primary)


@lru_cache(maxsize=1)
def default_registry() -> ComponentRegistry:
    """The registry of built-in components (immutable, so sharing it holds no run state)."""
    from flowdeck.engine.components.builtins import BUILTINS

    return ComponentRegistry(BUILTINS)
