"""The command line's two parsers: the fast one and typer read the same option table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowdeck.cli import HOT_COMMANDS, RUN_OPTS, SERVE_OPTS, fast_parse, main
from flowdeck.commands.app import build_app
from flowdeck.commands.common import CliError, parse_tweaks

HELLO = str(Path(__file__).resolve().parents[2] / "examples" / "hello.json")


def test_fast_parse_reads_every_kind_of_option() -> None:
    values = fast_parse(
        RUN_OPTS,
        [
            "f.json",
            "--input=hi",
            "-t",
            "a.b=1",
            "--tweak",
            "c.d=x",
            "-s",
            "--timeout",
            "2.5",
            "--output-format",
            "json",
            "--session-id",
            "s",
            "--input-type",
            "text",
        ],
    )
    assert values == {
        "flow": "f.json",
        "input_value": "hi",
        "input_type": "text",
        "tweaks": ["a.b=1", "c.d=x"],
        "output_format": "json",
        "stream": True,
        "session_id": "s",
        "timeout": 2.5,
    }


def test_fast_parse_defaults() -> None:
    assert fast_parse(RUN_OPTS, ["--input", "-", "f.json"]) == {
        "flow": "f.json",
        "input_value": "-",
        "input_type": None,
        "tweaks": [],
        "output_format": None,
        "stream": False,
        "session_id": None,
        "timeout": None,
    }


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no flow
        ["a.json", "b.json"],  # two flows
        ["a.json", "--help"],
        ["a.json", "-h"],
        ["a.json", "--input"],  # missing value
        ["a.json", "--output-format", "xml"],
        ["a.json", "--timeout", "soon"],
        ["a.json", "--stream=yes"],
        ["a.json", "--unknown", "1"],
    ],
)
def test_fast_parse_hands_anything_unusual_to_typer(argv: list[str]) -> None:
    assert fast_parse(RUN_OPTS, argv) is None


def test_the_table_and_the_typer_app_agree() -> None:
    app_help = CliRunner().invoke(build_app(), ["run", "--help"], terminal_width=200).output
    for opt in RUN_OPTS:
        for flag in opt.flags:
            assert flag in app_help


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_the_server_commands_agree_with_the_typer_app(command: str) -> None:
    app_help = CliRunner().invoke(build_app(), [command, "--help"], terminal_width=200).output
    for opt in HOT_COMMANDS[command][1]:
        for flag in opt.flags:
            assert flag in app_help


def test_integers_are_parsed_and_a_bad_one_goes_to_typer() -> None:
    assert fast_parse(SERVE_OPTS, ["--port", "8080", "--host=0.0.0.0"]) == {
        "host": "0.0.0.0",
        "port": 8080,
        "workers": None,
    }
    assert fast_parse(SERVE_OPTS, ["--port", "eighty"]) is None
    result = CliRunner().invoke(build_app(), ["serve", "--port", "eighty"])
    assert result.exit_code == 2
    assert "--port" in result.output


def _run_both_ways(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, Any]:
    fast = main(args)  # argv given: runs in-process, no fast exit
    fast_out = capsys.readouterr().out
    result = CliRunner().invoke(build_app(), args)
    return (fast, fast_out), (result.exit_code, result.stdout)


def test_fast_path_and_typer_path_give_the_same_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fast, slow = _run_both_ways(
        ["run", HELLO, "--input", "same", "-t", "Chat Output.sender=x"], capsys
    )
    assert fast == slow == (0, "same\n")


def test_hot_commands_have_help() -> None:
    assert set(HOT_COMMANDS) == {"run", "validate", "serve", "worker"}
    assert all(help for help, _, _ in HOT_COMMANDS.values())


def test_tweaks_parse_values_as_json_when_they_can() -> None:
    assert parse_tweaks(["a.n=3", "a.b=true", "a.s=hello", 'Chat Input.x={"k": 1}', "a.e="]) == {
        "a": {"n": 3, "b": True, "s": "hello", "e": ""},
        "Chat Input": {"x": {"k": 1}},
    }
    assert parse_tweaks(["My.Node.field=v"]) == {"My.Node": {"field": "v"}}


@pytest.mark.parametrize("bad", ["novalue", "nofield=1", ".field=1", "comp.=1"])
def test_bad_tweaks_are_usage_errors(bad: str) -> None:
    with pytest.raises(CliError) as info:
        parse_tweaks([bad])
    assert info.value.code == 2
