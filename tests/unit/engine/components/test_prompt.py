from __future__ import annotations

import pytest

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.components.prompt import render_template, template_variables
from flowdeck.engine.results import RunStatus
from flowdeck.errors import FlowValidationError

from ._support import flow, run


async def test_variables_from_params_render(engine: Engine) -> None:
    doc = flow(
        [
            (
                "p",
                "Prompt Template",
                {"template": "Hello {name}, you are {age}.", "name": "Ada", "age": 36},
            ),
            ("out", "TextOutput", {}),
        ],
        [("p.prompt", "out.input_value")],
    )
    ran = await run(engine, doc)
    assert ran.result.ok
    assert ran.text("p", "prompt") == "Hello Ada, you are 36."
    assert ran.text("out") == "Hello Ada, you are 36."


async def test_variable_fed_by_an_edge(engine: Engine) -> None:
    doc = flow(
        [
            ("in", "ChatInput", {}),
            ("p", "Prompt Template", {"template": "Answer briefly: {question}"}),
            ("out", "ChatOutput", {}),
        ],
        [("in.message", "p.question"), ("p.prompt", "out.input_value")],
    )
    ran = await run(engine, doc, RunRequest(input_value="why is the sky blue?"))
    assert ran.text("out") == "Answer briefly: why is the sky blue?"


async def test_data_record_fills_a_variable_with_its_text(engine: Engine) -> None:
    doc = flow(
        [
            ("j", "ParseJSON", {"input_value": '{"text": "from a record", "x": 1}'}),
            ("p", "Prompt", {"template": "<{doc}>"}),
        ],
        [("j.data", "p.doc")],
    )
    ran = await run(engine, doc)
    assert ran.text("p") == "<from a record>"


async def test_escaped_and_non_variable_braces_stay_literal(engine: Engine) -> None:
    template = 'Use {{name}} literally, JSON {"a": 1} too, but fill {name}.'
    doc = flow([("p", "Prompt Template", {"template": template, "name": "X"})])
    ran = await run(engine, doc)
    assert ran.text("p") == 'Use {name} literally, JSON {"a": 1} too, but fill X.'


async def test_unset_variable_renders_empty(engine: Engine) -> None:
    doc = flow([("p", "Prompt", {"template": "[{missing}]"})])
    ran = await run(engine, doc)
    assert ran.text("p") == "[]"


def test_graph_knows_each_vertex_dynamic_inputs(engine: Engine) -> None:
    graph = engine.compile(flow([("p", "Prompt", {"template": "{a} and {b} and {a}"})]))
    vertex = graph.vertices["p"]
    assert list(vertex.inputs) == ["template", "template_format", "a", "b"]
    assert vertex.type_name == "Prompt Template"  # the alias binds to the primary type


def test_edge_into_a_variable_not_in_the_template_is_rejected(engine: Engine) -> None:
    doc = flow(
        [("in", "ChatInput", {}), ("p", "Prompt", {"template": "Hi {name}"})],
        [("in.message", "p.nickname")],
    )
    with pytest.raises(FlowValidationError) as info:
        engine.compile(doc)
    issues = [(i.node_id, i.field) for i in info.value.issues]
    assert ("p", "nickname") in issues


def test_param_for_an_unknown_variable_is_rejected_in_native_form(engine: Engine) -> None:
    doc = flow([("p", "Prompt", {"template": "Hi {name}", "other": "x"})])
    with pytest.raises(FlowValidationError) as info:
        engine.compile(doc)
    assert info.value.issues[0].node_id == "p"
    assert info.value.issues[0].field == "other"


async def test_tweak_may_change_the_template_and_set_its_new_variable(engine: Engine) -> None:
    doc = flow([("p", "Prompt", {"template": "Hi {name}", "name": "Ada"})])
    tweaks = {"p": {"template": "Bye {who}", "who": "Bob"}}
    ran = await run(engine, doc, tweaks=tweaks)
    assert ran.text("p") == "Bye Bob"


def test_tweak_naming_an_unknown_variable_is_rejected(engine: Engine) -> None:
    doc = flow([("p", "Prompt", {"template": "Hi {name}"})])
    with pytest.raises(FlowValidationError) as info:
        engine.compile(doc, {"p": {"nobody": "x"}})
    assert (info.value.issues[0].node_id, info.value.issues[0].field) == ("p", "nobody")


async def test_langflow_layout_prompt_node_with_variable_fields(engine: Engine) -> None:
    doc = {
        "data": {
            "nodes": [
                {
                    "id": "ChatInput-1",
                    "data": {"id": "ChatInput-1", "type": "ChatInput", "node": {"template": {}}},
                },
                {
                    "id": "Prompt-1",
                    "data": {
                        "id": "Prompt-1",
                        "type": "Prompt",
                        "node": {
                            "template": {
                                "_type": "Component",
                                "code": {"value": "class PromptComponent: ..."},
                                "template": {"value": "Translate to {language}: {text}"},
                                "language": {"value": "French"},
                                "text": {"value": ""},
                            }
                        },
                    },
                },
            ],
            "edges": [
                {
                    "source": "ChatInput-1",
                    "target": "Prompt-1",
                    "data": {
                        "sourceHandle": {"id": "ChatInput-1", "name": "message"},
                        "targetHandle": {"id": "Prompt-1", "fieldName": "text"},
                    },
                }
            ],
        }
    }
    ran = await run(engine, doc, RunRequest(input_value="good morning"))
    assert ran.text("Prompt-1") == "Translate to French: good morning"


async def test_jinja2_format_is_a_clear_component_error(engine: Engine) -> None:
    doc = flow([("p", "Prompt", {"template": "{{ x }}", "template_format": "jinja2"})])
    ran = await run(engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "p"
    assert "jinja2" in (ran.result.error or "")


def test_template_helpers() -> None:
    assert template_variables("{b} {a} {{c}} {b} {1} {x y}") == ["b", "a"]
    assert render_template("{{x}} {x}", {"x": 5}) == "{x} 5"
