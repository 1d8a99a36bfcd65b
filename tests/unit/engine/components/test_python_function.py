from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.results import RunStatus

from ._support import flow, run


@pytest.fixture
async def code_engine() -> AsyncIterator[Engine]:
    eng = Engine(allow_custom_code=True)
    yield eng
    await eng.aclose()


def _fn_flow(code: str, **params: Any) -> dict[str, Any]:
    return flow(
        [
            ("in", "ChatInput", {}),
            ("fn", "PythonFunction", {"code": code, **params}),
            ("out", "ChatOutput", {}),
        ],
        [("in.message", "fn.input_value"), ("fn.result", "out.input_value")],
    )


DOUBLE = "def double(text):\n    return text * 2\n"


async def test_refused_unless_custom_code_is_allowed(engine: Engine) -> None:
    ran = await run(engine, _fn_flow(DOUBLE), RunRequest(input_value="ab"))
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "fn"
    assert "custom code is disabled" in (ran.result.error or "")
    assert "FLOWDECK_ALLOW_CUSTOM_CODE" in (ran.result.error or "")


async def test_calls_the_function_with_the_input_text(code_engine: Engine) -> None:
    ran = await run(code_engine, _fn_flow(DOUBLE), RunRequest(input_value="ab"))
    assert ran.out("fn", "result") == "abab"
    assert ran.text("fn", "function_output_str") == "abab"
    assert ran.out("fn", "function_output_data") == {"result": "abab"}
    assert ran.text("out") == "abab"


async def test_last_defined_function_is_called_and_helpers_work(code_engine: Engine) -> None:
    code = (
        "import json\n"
        "from math import sqrt\n"
        "def helper(x):\n    return x.upper()\n"
        "def main(x):\n    return {'shout': helper(x), 'root': sqrt(16), 'j': json.dumps(1)}\n"
    )
    ran = await run(code_engine, _fn_flow(code), RunRequest(input_value="hi"))
    assert ran.out("fn", "result") == {"shout": "HI", "root": 4.0, "j": "1"}
    assert ran.out("fn", "function_output_data") == {"shout": "HI", "root": 4.0, "j": "1"}


async def test_function_name_picks_one(code_engine: Engine) -> None:
    code = "def a(x):\n    return 'a'\ndef b(x):\n    return 'b'\n"
    ran = await run(code_engine, _fn_flow(code, function_name="a"), RunRequest(input_value="."))
    assert ran.out("fn", "result") == "a"
    ran = await run(code_engine, _fn_flow(code, function_name="c"), RunRequest(input_value="."))
    assert "code defines no function 'c'" in (ran.result.error or "")


async def test_langflow_function_code_without_arguments(code_engine: Engine) -> None:
    doc = flow([("fn", "PythonFunction", {"function_code": "def f():\n    return 42\n"})])
    ran = await run(code_engine, doc)
    assert ran.out("fn", "result") == 42
    assert ran.text("fn", "function_output_str") == "42"


async def test_async_function_is_awaited(code_engine: Engine) -> None:
    code = "import asyncio\nasync def f(x):\n    await asyncio.sleep(0)\n    return x[::-1]\n"
    ran = await run(code_engine, _fn_flow(code), RunRequest(input_value="abc"))
    assert ran.out("fn", "result") == "cba"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("def f(x):\n    return 1 / 0\n", "f() raised ZeroDivisionError: division by zero"),
        ("def f(x)\n    return 1\n", "code has a syntax error on line 1"),
        ("x = 1\n", "code defines no function"),
        ("raise RuntimeError('at import')\n", "code failed while loading: RuntimeError: at import"),
    ],
)
async def test_errors_name_the_component(code_engine: Engine, code: str, message: str) -> None:
    ran = await run(code_engine, _fn_flow(code), RunRequest(input_value="x"))
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "fn"
    assert (ran.result.error or "").startswith("Python Function (fn): ")
    assert message in (ran.result.error or "")


async def test_blocking_code_does_not_block_other_steps(code_engine: Engine) -> None:
    code = "import time\ndef f(x):\n    time.sleep(0.3)\n    return 'slept'\n"
    doc = flow(
        [
            ("in", "ChatInput", {}),
            ("fn", "PythonFunction", {"code": code}),
            ("d", "Delay", {"seconds": 0.3}),
            ("c", "CombineText", {}),
        ],
        [
            ("in.message", "fn.input_value"),
            ("in.message", "d.input_value"),
            ("fn.function_output_str", "c.text1"),
            ("d.message", "c.text2"),
        ],
    )
    ran = await run(code_engine, doc, RunRequest(input_value="x"))
    assert ran.text("c") == "slept x"
    # The sleep runs in a worker thread, so the delay overlaps it (sequential: 0.6s).
    assert ran.result.duration < 0.55
