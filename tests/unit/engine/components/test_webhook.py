from __future__ import annotations

from flowdeck.engine import Engine, RunRequest

from ._support import flow, run

WEBHOOK_FLOW = flow(
    [
        ("hook", "Webhook", {"data": '{"user": "sample", "event": "none"}'}),
        ("p", "ParserComponent", {"pattern": "{user} did {event}"}),
        ("out", "TextOutput", {}),
    ],
    [("hook.output_data", "p.input_data"), ("p.parsed_text", "out.input_value")],
)


async def test_webhook_run_receives_the_body(engine: Engine) -> None:
    body = '{"user": "ada", "event": "push", "n": 3}'
    ran = await run(engine, WEBHOOK_FLOW, RunRequest(input_value=body, input_type="webhook"))
    assert ran.out("hook", "output_data") == {"user": "ada", "event": "push", "n": 3}
    assert ran.text("out") == "ada did push"


async def test_other_runs_use_the_payload_field(engine: Engine) -> None:
    # A chat-typed input is not a webhook body: the node's own payload is used.
    ran = await run(engine, WEBHOOK_FLOW, RunRequest(input_value="hello", input_type="chat"))
    assert ran.out("hook", "output_data") == {"user": "sample", "event": "none"}
    assert ran.text("out") == "sample did none"


async def test_non_object_body_goes_under_payload_with_a_warning(engine: Engine) -> None:
    doc = flow([("hook", "Webhook", {})])
    ran = await run(engine, doc, RunRequest(input_value="not json", input_type="webhook"))
    assert ran.out("hook", "output_data") == {"payload": "not json"}
    logs = ran.result.vertices["hook"].logs
    assert logs[0]["level"] == "warning"
    assert "not a JSON object" in logs[0]["message"]
    ran = await run(engine, doc, RunRequest(input_value="[1, 2]", input_type="webhook"))
    assert ran.out("hook", "output_data") == {"payload": [1, 2]}


async def test_no_body_gives_empty_data(engine: Engine) -> None:
    ran = await run(engine, flow([("hook", "Webhook", {})]))
    assert ran.out("hook", "output_data") == {}


async def test_langflow_webhook_node_imports(engine: Engine) -> None:
    doc = {
        "nodes": [
            {
                "id": "Webhook-x",
                "data": {
                    "id": "Webhook-x",
                    "type": "Webhook",
                    "node": {
                        "template": {
                            "data": {"value": ""},
                            "curl": {"value": "CURL"},
                            "endpoint": {"value": "BACKEND_URL"},
                        }
                    },
                },
            }
        ],
        "edges": [],
    }
    ran = await run(engine, doc, RunRequest(input_value='{"a": 1}', input_type="webhook"))
    assert ran.out("Webhook-x", "output_data") == {"a": 1}
