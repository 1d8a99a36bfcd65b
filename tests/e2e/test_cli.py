"""The `flowdeck` command as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli_support import EXAMPLES, HELLO, assert_clean_failure, flowdeck, write_flow

# -- run ------------------------------------------------------------------------------------


def test_run_prints_the_chat_output_text() -> None:
    proc = flowdeck("run", HELLO, "--input", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hi\n"
    assert proc.stderr == ""


def test_run_json_prints_langflows_run_response() -> None:
    proc = flowdeck("run", HELLO, "--input", "hi", "--output-format", "json", "--session-id", "s1")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["session_id"] == "s1"
    (run_output,) = body["outputs"]
    assert run_output["inputs"] == {"input_value": "hi"}
    (result,) = run_output["outputs"]
    assert result["component_id"] == "ChatOutput-p9Lx2"
    assert result["results"]["message"]["text"] == "hi"
    assert result["outputs"]["message"] == {"message": "hi", "type": "text"}
    assert result["messages"][0]["session_id"] == "s1"


def test_tweaks_override_fields_by_id_and_display_name() -> None:
    tweaks = ["--tweak", "ChatOutput-p9Lx2.sender_name=Bot", "-t", "Chat Input.sender_name=Ann"]
    proc = flowdeck("run", HELLO, "-i", "hi", "-o", "json", *tweaks)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)["outputs"][0]["outputs"][0]
    assert result["results"]["message"]["sender_name"] == "Bot"


def test_tweak_values_are_read_as_json_when_they_parse() -> None:
    router = EXAMPLES / "router.yaml"
    plain = flowdeck("run", router, "--input", "HELP me")
    assert plain.stdout.startswith("Support here")
    strict = flowdeck("run", router, "--input", "HELP me", "--tweak", "router.case_sensitive=false")
    assert strict.stdout.startswith("Support here")
    strict = flowdeck("run", router, "--input", "HELP me", "--tweak", "router.case_sensitive=true")
    assert strict.returncode == 0, strict.stderr
    assert strict.stdout == "Thanks for your message!\n"


def test_router_example_takes_one_branch() -> None:
    assert flowdeck("run", EXAMPLES / "router.yaml", "--input", "hello").stdout == (
        "Thanks for your message!\n"
    )


def test_prompt_example_fills_the_template_from_a_text_input() -> None:
    proc = flowdeck("run", EXAMPLES / "prompt.yaml", "--input", "World")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello World!\n"


def test_input_dash_reads_standard_input() -> None:
    proc = flowdeck("run", HELLO, "--input", "-", stdin="from stdin")
    assert proc.stdout == "from stdin\n"


def test_subflow_paths_resolve_next_to_the_flow_file(tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    write_flow(
        tmp_path / "inner" / "child.json",
        [{"id": "t", "type": "TextInput"}, {"id": "o", "type": "TextOutput"}],
        [{"from": "t.text", "to": "o.input_value"}],
    )
    parent = write_flow(
        tmp_path / "parent.json",
        [
            {"id": "in", "type": "ChatInput"},
            {"id": "sub", "type": "SubFlow", "params": {"flow": "inner/child.json"}},
            {"id": "out", "type": "ChatOutput"},
        ],
        [
            {"from": "in.message", "to": "sub.input_value"},
            {"from": "sub.message", "to": "out.input_value"},
        ],
    )
    proc = flowdeck("run", parent, "--input", "nested")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "nested\n"


def _python_flow(tmp_path: Path) -> Path:
    return write_flow(
        tmp_path / "code.json",
        [
            {"id": "in", "type": "ChatInput"},
            {
                "id": "fn",
                "type": "PythonFunction",
                "params": {"code": "def shout(text):\n    return text.upper()\n"},
            },
            {"id": "out", "type": "ChatOutput"},
        ],
        [
            {"from": "in.message", "to": "fn.input_value"},
            {"from": "fn.function_output_str", "to": "out.input_value"},
        ],
    )


def test_custom_code_is_refused_unless_enabled(tmp_path: Path) -> None:
    flow = _python_flow(tmp_path)
    refused = flowdeck("run", flow, "--input", "hey")
    assert_clean_failure(refused, "Python Function (fn)", "FLOWDECK_ALLOW_CUSTOM_CODE")
    assert refused.returncode == 1
    allowed = flowdeck("run", flow, "--input", "hey", env={"FLOWDECK_ALLOW_CUSTOM_CODE": "yes"})
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout == "HEY\n"


def test_failed_run_names_the_component_and_exits_1() -> None:
    proc = flowdeck(
        "run", EXAMPLES / "router.yaml", "--input", "abc", "--tweak", "router.operator=less than"
    )
    assert_clean_failure(proc, "Asks for help? (router)", "compares numbers")
    assert proc.returncode == 1


def test_json_output_of_a_failed_run_still_prints_the_response() -> None:
    tweak = ["-t", "router.operator=less than"]
    proc = flowdeck("run", EXAMPLES / "router.yaml", "-i", "abc", *tweak, "-o", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["outputs"][0]["outputs"] == []
    assert "compares numbers" in proc.stderr


def test_run_timeout_fails_the_run(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path / "slow.json",
        [
            {"id": "in", "type": "ChatInput"},
            {"id": "wait", "type": "Delay", "params": {"seconds": 10}},
            {"id": "out", "type": "ChatOutput"},
        ],
        [
            {"from": "in.message", "to": "wait.input_value"},
            {"from": "wait.message", "to": "out.input_value"},
        ],
    )
    proc = flowdeck("run", flow, "--input", "x", "--timeout", "0.2")
    assert_clean_failure(proc, "time limit")


# -- validate and components ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        ("hello.json", "valid: 2 components, 1 edge\n"),
        ("prompt.yaml", "valid: 3 components, 2 edges\n"),
        ("router.yaml", "valid: 4 components, 3 edges\n"),
    ],
)
def test_validate_accepts_the_examples(name: str, summary: str) -> None:
    proc = flowdeck("validate", EXAMPLES / name)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == summary


def test_validate_lists_every_issue(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path / "bad.json",
        [
            {"id": "in", "type": "ChatInput", "params": {"colour": "red"}},
            {"id": "x", "type": "NoSuchThing"},
            {"id": "out", "type": "ChatOutput"},
        ],
        [{"from": "in.message", "to": "ghost.input_value"}],
    )
    proc = flowdeck("validate", flow)
    assert_clean_failure(proc, "3 issues", "node in, field colour", "unknown component type")
    assert "node ghost" in proc.stderr
    assert proc.returncode == 1
    assert proc.stdout == ""


def test_components_lists_the_registry() -> None:
    proc = flowdeck("components")
    assert proc.returncode == 0, proc.stderr
    for name in ("ChatInput", "ConditionalRouter", "input_value"):
        assert name in proc.stdout


def test_validate_warns_when_custom_code_is_disabled(tmp_path: Path) -> None:
    flow = _python_flow(tmp_path)
    warned = flowdeck("validate", flow)
    assert warned.returncode == 0, warned.stderr
    assert warned.stdout == "valid: 3 components, 2 edges\n"
    assert "warning: Python Function (fn) runs custom code" in warned.stderr
    assert "FLOWDECK_ALLOW_CUSTOM_CODE=true" in warned.stderr
    allowed = flowdeck("validate", flow, env={"FLOWDECK_ALLOW_CUSTOM_CODE": "true"})
    assert allowed.returncode == 0
    assert allowed.stderr == ""


def test_an_edge_from_a_node_of_unknown_type_names_the_type(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path / "typo.json",
        [{"id": "in", "type": "ChatInptu"}, {"id": "out", "type": "ChatOutput"}],
        [{"from": "in.message", "to": "out.input_value"}],
    )
    proc = flowdeck("validate", flow)
    assert_clean_failure(proc, "edge to out starts at a node of unknown type 'ChatInptu'")
    assert "missing node" not in proc.stderr


def test_components_shows_every_field_name_whole_on_a_narrow_terminal() -> None:
    proc = flowdeck("components", env={"COLUMNS": "40"})
    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout
    listed = json.loads(flowdeck("components", "--json").stdout)
    for item in listed:
        assert item["type"] in proc.stdout
        for field in item["inputs"]:
            assert f"{field['name']}{'*' if field['required'] else ''}: " in proc.stdout


def test_version() -> None:
    from flowdeck import __version__

    proc = flowdeck("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"flowdeck {__version__}\n"


def test_components_json() -> None:
    proc = flowdeck("components", "--json")
    assert proc.returncode == 0, proc.stderr
    items = {c["type"]: c for c in json.loads(proc.stdout)}
    assert {"ChatInput", "ChatOutput", "TextInput", "TextOutput"} <= items.keys()
    assert items["ChatInput"]["outputs"][0]["name"] == "message"


def test_help_lists_the_commands() -> None:
    top = flowdeck("--help")
    assert top.returncode == 0
    for command in ("run", "validate", "components"):
        assert command in top.stdout
    run_help = flowdeck("run", "--help")
    assert run_help.returncode == 0
    assert "--tweak" in run_help.stdout
    assert "--output-format" in run_help.stdout


# -- bad input: one message, non-zero exit, never a traceback ----------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert_clean_failure(flowdeck("run", tmp_path / "nope.json", "-i", "x"), "cannot read")
    assert_clean_failure(flowdeck("validate", tmp_path / "nope.json"), "cannot read")


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert_clean_failure(flowdeck("run", path, "-i", "x"), "broken.json is not valid JSON")


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("nodes: [unclosed")
    assert_clean_failure(flowdeck("validate", path), "broken.yaml is not valid YAML")


def test_not_a_flow(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]")
    assert_clean_failure(flowdeck("run", path), "a flow must be a JSON object")


def test_unknown_component(tmp_path: Path) -> None:
    flow = write_flow(tmp_path / "f.json", [{"id": "n1", "type": "Nope"}], [])
    proc = flowdeck("run", flow, "-i", "x")
    assert_clean_failure(proc, "node n1", "unknown component type 'Nope'")
    assert proc.returncode == 1


def test_bad_tweak_syntax() -> None:
    proc = flowdeck("run", HELLO, "-i", "x", "--tweak", "no-equals-sign")
    assert_clean_failure(proc, "bad --tweak 'no-equals-sign'")
    assert proc.returncode == 2


def test_tweak_naming_an_unknown_component() -> None:
    proc = flowdeck("run", HELLO, "-i", "x", "--tweak", "Ghost.text=1")
    assert_clean_failure(proc, "node Ghost", "tweak names no component")


def test_usage_errors_exit_2() -> None:
    proc = flowdeck("run", HELLO, "--output-format", "xml")
    assert_clean_failure(proc, "xml")
    assert proc.returncode == 2
    assert_clean_failure(flowdeck("run"), "FLOW")
    assert flowdeck("run", HELLO, "--timeout", "0").returncode == 2
