from __future__ import annotations

import orjson
import pytest

from flowdeck.engine import Engine
from flowdeck.engine.components.builtins import BUILTINS
from flowdeck.engine.components.registry import default_registry
from flowdeck.errors import FlowValidationError

from ._support import flow

# Langflow's type names (SPEC "Engine") and flowdeck's own additions.
SPEC_TYPES = [
    "ChatInput",
    "ChatOutput",
    "TextInput",
    "TextOutput",
    "Prompt Template",
    "Prompt",
    "CombineText",
    "SplitText",
    "RegexExtractorComponent",
    "ParserComponent",
    "ConditionalRouter",
    "APIRequest",
    "Webhook",
    "LoopComponent",
    "Delay",
    "WaitForInput",
    "Approval",
    "SubFlow",
    "PythonFunction",
    "OpenAIChat",
    "MCPTool",
]


@pytest.mark.parametrize("name", SPEC_TYPES)
def test_spec_type_names_are_registered(name: str) -> None:
    assert name in default_registry()


def test_aliases_bind_to_their_primary_component() -> None:
    registry = default_registry()
    for alias, primary in [
        ("Prompt", "Prompt Template"),
        ("OpenAIModel", "OpenAIChat"),
        ("ParseJSONData", "JSONQuery"),
        ("MCPTools", "MCPTool"),
    ]:
        component = registry.get(alias)
        assert component is not None
        assert component.type_name == primary
        assert component is registry.get(primary)


def test_every_builtin_describes_itself_as_json() -> None:
    assert len(default_registry()) == len(BUILTINS)
    for component in default_registry():
        described = component.describe()
        orjson.dumps(described)
        assert described["outputs"], component.type_name
        names = [i["name"] for i in described["inputs"]]
        assert len(names) == len(set(names)), component.type_name
        # Only the prompt derives inputs from its params.
        if component.type_name != "Prompt Template":
            assert component.dynamic_inputs({"template": "{x}"}) == ()


def test_unknown_type_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(FlowValidationError) as info:
        engine.compile(flow([("n", "ChatOpenAI", {})]))
    assert str(info.value) == "Flow is invalid: n: unknown component type 'ChatOpenAI'"
