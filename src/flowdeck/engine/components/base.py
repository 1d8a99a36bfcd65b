"""What a component is: declared, typed inputs and outputs, and an async body."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from flowdeck.engine.types import DataType

if TYPE_CHECKING:
    from flowdeck.engine.context import VertexContext


@dataclass(frozen=True, slots=True)
class Input:
    """A declared input field. Values come from the template, tweaks, or an edge."""

    name: str
    type: DataType = DataType.TEXT
    required: bool = False
    default: Any = None
    display_name: str = ""
    info: str = ""
    options: tuple[str, ...] = ()
    is_list: bool = False
    # Fields that only configure the component (no edge may feed them).
    advanced: bool = False

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type.value,
            "required": self.required,
            "display_name": self.display_name or self.name,
        }
        if self.default is not None:
            out["default"] = self.default
        if self.options:
            out["options"] = list(self.options)
        if self.is_list:
            out["is_list"] = True
        if self.info:
            out["info"] = self.info
        return out


@dataclass(frozen=True, slots=True)
class Output:
    """A declared output port."""

    name: str
    type: DataType = DataType.MESSAGE
    display_name: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.value,
            "display_name": self.display_name or self.name,
        }


class Component(ABC):
    """Base class of every component.

    Subclasses declare `type_name`, `inputs` and `outputs` and implement `build`, which
    returns a mapping of output name to value. An output left out of the mapping is
    inactive: the edges leaving it carry nothing and the branch behind it is skipped.
    Components are stateless; one instance serves every run.
    """

    type_name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    display_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    category: ClassVar[str] = "misc"
    inputs: ClassVar[tuple[Input, ...]] = ()
    outputs: ClassVar[tuple[Output, ...]] = ()
    # Which run-level input this component receives ("chat", "text"), if any.
    input_kind: ClassVar[str | None] = None
    # Which run-level output type this component answers to ("chat", "text"), if any.
    output_kind: ClassVar[str | None] = None
    # Loop components may sit on a cycle: edges back into them are allowed.
    allows_loop: ClassVar[bool] = False
    # Runs code the flow carries: refused unless the host allows custom code.
    runs_custom_code: ClassVar[bool] = False

    _inputs_by_name: ClassVar[dict[str, Input]]
    _outputs_by_name: ClassVar[dict[str, Output]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._inputs_by_name = {i.name: i for i in cls.inputs}
        cls._outputs_by_name = {o.name: o for o in cls.outputs}
        if not cls.display_name and hasattr(cls, "type_name"):
            cls.display_name = cls.type_name

    @classmethod
    def input(cls, name: str) -> Input | None:
        return cls._inputs_by_name.get(name)

    @classmethod
    def output(cls, name: str) -> Output | None:
        return cls._outputs_by_name.get(name)

    @classmethod
    def dynamic_inputs(cls, params: Mapping[str, Any]) -> tuple[Input, ...]:
        """Inputs one node adds from its own field values (a prompt's `{variables}`)."""
        return ()

    @classmethod
    def inputs_for(cls, params: Mapping[str, Any]) -> Mapping[str, Input]:
        """One node's inputs by name: the declared ones, then dynamic ones that shadow none.

        Without dynamic inputs this is the class's own mapping, shared by its nodes: a copy
        per node was a tenth of a compiled graph's memory.
        """
        extra = cls.dynamic_inputs(params)
        if not extra:
            return cls._inputs_by_name
        merged = dict(cls._inputs_by_name)
        for inp in extra:
            merged.setdefault(inp.name, inp)
        return merged

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "type": cls.type_name,
            "aliases": list(cls.aliases),
            "display_name": cls.display_name,
            "description": cls.description,
            "category": cls.category,
            "inputs": [i.describe() for i in cls.inputs],
            "outputs": [o.describe() for o in cls.outputs],
        }

    @abstractmethod
    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        """Compute this vertex's outputs from its resolved input values."""
