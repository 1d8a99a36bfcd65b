"""Stored components: custom code kept in a tenant's registry and used in flows by name.

The code declares its ports as literals and defines the function that computes them:

    INPUTS = ["text", {"name": "times", "type": "Number", "default": 2}]
    OUTPUTS = [{"name": "result", "type": "Message"}]

    def build(text, times):
        return {"result": text * int(times)}

`declaration` reads that without running anything (the AST only), so saving a component
checks it on any server; running it obeys the custom-code rule of PythonFunction.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.components.python_function import load_function
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message, to_text
from flowdeck.errors import CustomCodeDisabledError

ENTRY = "build"
_TYPES = {t.value.lower(): t for t in DataType}
_INPUT_KEYS = {"name", "type", "required", "default", "display_name", "info", "options", "advanced"}
_OUTPUT_KEYS = {"name", "type", "display_name"}


class DeclarationError(ValueError):
    """The code does not declare a usable component; `line` is where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Declaration:
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    is_async: bool


def declaration(code: str) -> Declaration:
    """The ports and entry function the code declares; DeclarationError saying what is wrong."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise DeclarationError(f"syntax error: {exc.msg}", exc.lineno) from None
    literals: dict[str, tuple[Any, int]] = {}
    entry: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("INPUTS", "OUTPUTS"):
                try:
                    literals[target.id] = (ast.literal_eval(node.value), node.lineno)
                except ValueError:
                    raise DeclarationError(f"{target.id} must be a literal", node.lineno) from None
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == ENTRY:
            entry = node
    if entry is None:
        raise DeclarationError(f"the code defines no top-level function {ENTRY}()")
    in_line = literals.get("INPUTS", (None, 0))[1]
    inputs = tuple(_input(e, in_line) for e in _entries("INPUTS", literals))
    outputs = tuple(_output(e, literals["OUTPUTS"][1]) for e in _entries("OUTPUTS", literals))
    if not outputs:
        raise DeclarationError("OUTPUTS declares no output", literals["OUTPUTS"][1])
    for kind, ports in (("input", inputs), ("output", outputs)):
        names = [p.name for p in ports]
        if len(set(names)) != len(names):
            raise DeclarationError(f"an {kind} name is declared twice: {names}")
    _check_parameters(entry, inputs)
    return Declaration(inputs, outputs, isinstance(entry, ast.AsyncFunctionDef))


def _entries(name: str, literals: Mapping[str, tuple[Any, int]]) -> list[Any]:
    if name not in literals:
        if name == "INPUTS":
            return []
        raise DeclarationError(f"the code declares no {name} = [...]")
    value, line = literals[name]
    if not isinstance(value, list | tuple):
        raise DeclarationError(f"{name} must be a list", line)
    return list(value)


def _port_fields(entry: Any, allowed: set[str], line: int) -> dict[str, Any]:
    fields = {"name": entry} if isinstance(entry, str) else entry
    if not isinstance(fields, dict):
        raise DeclarationError("a port is a name or an object with a name", line)
    unknown = set(fields) - allowed
    if unknown:
        raise DeclarationError(f"unknown port keys {sorted(unknown)}", line)
    name = fields.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise DeclarationError(f"a port name must be an identifier, not {name!r}", line)
    kind = str(fields.get("type", "Text")).lower()
    if kind not in _TYPES:
        raise DeclarationError(
            f"port {name!r} has type {fields.get('type')!r}; one of {', '.join(DataType)}", line
        )
    return {**fields, "type": _TYPES[kind]}


def _input(entry: Any, line: int) -> Input:
    f = _port_fields(entry, _INPUT_KEYS, line)
    return Input(
        f["name"],
        f["type"],
        required=bool(f.get("required", False)),
        default=f.get("default"),
        display_name=str(f.get("display_name") or ""),
        info=str(f.get("info") or ""),
        options=tuple(str(o) for o in f.get("options") or ()),
        advanced=bool(f.get("advanced", False)),
    )


def _output(entry: Any, line: int) -> Output:
    f = _port_fields(entry, _OUTPUT_KEYS, line)
    return Output(f["name"], f["type"], str(f.get("display_name") or ""))


def _check_parameters(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, inputs: tuple[Input, ...]
) -> None:
    """Every input reaches the function by name, and it asks for nothing else."""
    args = fn.args
    named = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.posonlyargs:
        raise DeclarationError(
            f"{ENTRY}() takes its inputs by name: no positional-only ones", fn.lineno
        )
    declared = {i.name for i in inputs}
    params = {a.arg for a in named}
    if args.kwarg is None and (missing := sorted(declared - params)):
        raise DeclarationError(f"{ENTRY}() takes no parameter for the inputs {missing}", fn.lineno)
    # Parameters without a default must be inputs: nothing else would fill them.
    required = [a.arg for a in args.args[: len(args.args) - len(args.defaults)]]
    required += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if extra := sorted(set(required) - declared):
        raise DeclarationError(f"{ENTRY}() needs {extra}, which INPUTS does not declare", fn.lineno)


class StoredComponent(Component):
    """A component whose ports and body come from stored code (one subclass per component)."""

    category = "custom"
    runs_custom_code = True
    code: ClassVar[str] = ""

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        if not ctx.allow_custom_code:
            raise CustomCodeDisabledError(
                f"component {self.type_name!r} runs stored custom code, which is disabled on "
                "this server (set FLOWDECK_ALLOW_CUSTOM_CODE=true to run it)"
            )
        values = {
            i.name: params[i.name].text
            if isinstance(params.get(i.name), Message)
            else params.get(i.name)
            for i in self.inputs
        }
        result = await asyncio.to_thread(_call, self.code, self.type_name, values)
        if inspect.isawaitable(result):
            try:
                result = await result
            except Exception as exc:
                raise ValueError(f"{ENTRY}() raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(result, Mapping):
            if len(self.outputs) != 1:
                raise ValueError(
                    f"{ENTRY}() must return an object of {[o.name for o in self.outputs]}"
                )
            result = {self.outputs[0].name: result}
        unknown = set(result) - {o.name for o in self.outputs}
        if unknown:
            raise ValueError(f"{ENTRY}() returned undeclared outputs {sorted(unknown)}")
        # An output left out is inactive, like any component's.
        return {
            o.name: _as(o.type, result[o.name], ctx.session_id)
            for o in self.outputs
            if o.name in result
        }


def _call(code: str, name: str, values: dict[str, Any]) -> Any:
    fn = load_function(code, ENTRY)
    try:
        return fn(**values)
    except Exception as exc:
        raise ValueError(f"{name}: {ENTRY}() raised {type(exc).__name__}: {exc}") from exc


def _as(kind: DataType, value: Any, session_id: str) -> Any:
    if kind is DataType.MESSAGE and not isinstance(value, Message):
        return Message(text=to_text(value), session_id=session_id)
    return value


def stored_component(
    name: str,
    code: str,
    *,
    display_name: str = "",
    description: str = "",
    category: str = "custom",
) -> type[Component]:
    """The component class of stored code (DeclarationError when the code declares none)."""
    found = declaration(code)
    attrs = {
        "type_name": name,
        "display_name": display_name or name,
        "description": description,
        "category": category,
        "inputs": found.inputs,
        "outputs": found.outputs,
        "code": code,
    }
    return type(f"Stored_{name}", (StoredComponent,), attrs)
