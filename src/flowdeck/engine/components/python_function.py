"""Python function: run a function written into the flow (custom code, off unless enabled)."""

from __future__ import annotations

import asyncio
import builtins
import functools
import inspect
from collections.abc import Callable, Mapping
from types import CodeType
from typing import Any

from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message, to_text
from flowdeck.errors import CustomCodeDisabledError

_FILENAME = "<PythonFunction>"


@functools.lru_cache(maxsize=256)
def _compiled(code: str) -> CodeType:
    # A code object is immutable: runs of the same code share it, and each still executes
    # it in a namespace of its own.
    return compile(code, _FILENAME, "exec")


def load_function(code: str, name: str | None) -> Callable[..., Any]:
    """Execute `code` and return the function named `name`, or the last one it defines."""
    try:
        compiled = _compiled(code)
    except SyntaxError as exc:
        raise ValueError(f"code has a syntax error on line {exc.lineno}: {exc.msg}") from None
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "flowdeck_function"}
    try:
        exec(compiled, namespace)  # the whole point of this component, when it is enabled
    except Exception as exc:
        raise ValueError(f"code failed while loading: {type(exc).__name__}: {exc}") from exc
    if name:
        fn = namespace.get(name)
        if not callable(fn):
            raise ValueError(f"code defines no function {name!r}")
        return fn  # type: ignore[no-any-return]
    # Functions defined by the code itself, not ones it imported.
    own = [
        v
        for v in namespace.values()
        if inspect.isfunction(v) and v.__code__.co_filename == _FILENAME
    ]
    if not own:
        raise ValueError("code defines no function")
    return own[-1]


def _takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        for p in sig.parameters.values()
    )


def _call(code: str, name: str | None, value: Any) -> Any:
    """Load and call the function (in a worker thread: user code may block)."""
    fn = load_function(code, name)
    args = (value,) if _takes_argument(fn) else ()
    try:
        return fn(*args)
    except Exception as exc:
        raise ValueError(f"{fn.__name__}() raised {type(exc).__name__}: {exc}") from exc


class PythonFunction(Component):
    type_name = "PythonFunction"
    display_name = "Python Function"
    description = "Call a Python function defined in the flow with the input value."
    category = "custom"
    runs_custom_code = True
    inputs = (
        Input(
            "code",
            DataType.TEXT,
            default="",
            display_name="Code",
            info="Python source defining a function; it is called with the input value.",
        ),
        Input(
            "function_code",
            DataType.TEXT,
            default="",
            advanced=True,
            info="Langflow's name for code.",
        ),
        Input("input_value", DataType.ANY, display_name="Input"),
        Input(
            "function_name",
            DataType.TEXT,
            default="",
            advanced=True,
            info="Which function to call; by default the last one defined.",
        ),
    )
    outputs = (
        Output("result", DataType.ANY, "Result"),
        Output("function_output_str", DataType.MESSAGE, "Result as text"),
        Output("function_output_data", DataType.DATA, "Result as Data"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        if not ctx.allow_custom_code:
            raise CustomCodeDisabledError(
                "custom code is disabled on this server (set FLOWDECK_ALLOW_CUSTOM_CODE=true "
                "to run PythonFunction components)"
            )
        code = params["code"] or params["function_code"]
        if not code:
            raise ValueError("no code given")
        value = params["input_value"]
        if isinstance(value, Message):
            value = value.text
        result = await asyncio.to_thread(_call, code, params["function_name"] or None, value)
        if inspect.isawaitable(result):
            # An `async def` function: its body runs here, on the loop.
            try:
                result = await result
            except Exception as exc:
                raise ValueError(f"the function raised {type(exc).__name__}: {exc}") from exc
        data = result if isinstance(result, dict) else {"result": result}
        return {
            "result": result,
            "function_output_str": Message(text=to_text(result), session_id=ctx.session_id),
            "function_output_data": data,
        }
