from __future__ import annotations

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.components.split import merge_splits, split_recursive
from flowdeck.engine.results import RunStatus

from ._support import flow, run


async def test_character_split_on_a_separator(engine: Engine) -> None:
    doc = flow(
        [
            ("in", "ChatInput", {}),
            ("s", "SplitText", {"separator": "\\n", "chunk_size": 5, "chunk_overlap": 0}),
        ],
        [("in.message", "s.data_inputs")],
    )
    ran = await run(engine, doc, RunRequest(input_value="alpha\nbeta\ngamma"))
    chunks = ran.out("s", "chunks")
    assert chunks == [{"text": "alpha"}, {"text": "beta"}, {"text": "gamma"}]
    assert ran.out("s", "dataframe") == chunks


async def test_small_pieces_merge_up_to_chunk_size_with_overlap(engine: Engine) -> None:
    doc = flow(
        [
            (
                "s",
                "SplitText",
                {
                    "data_inputs": "a b c d e f",
                    "separator": " ",
                    "chunk_size": 5,
                    "chunk_overlap": 2,
                },
            )
        ]
    )
    ran = await run(engine, doc)
    texts = [c["text"] for c in ran.out("s", "chunks")]
    assert texts == ["a b c", "c d e", "e f"]
    assert all(len(t) <= 5 for t in texts)


async def test_langflow_separator_names_are_understood(engine: Engine) -> None:
    doc = flow(
        [
            (
                "s",
                "SplitText",
                {
                    "data_inputs": "one\n\ntwo",
                    "separator": "/n/n",
                    "chunk_size": 3,
                    "chunk_overlap": 0,
                },
            )
        ]
    )
    ran = await run(engine, doc)
    assert [c["text"] for c in ran.out("s", "chunks")] == ["one", "two"]


async def test_records_keep_their_other_keys_unless_clean_output(engine: Engine) -> None:
    records = [{"text": "aaa bbb", "source": "x.txt"}, {"text": "ccc", "source": "y.txt"}]
    base = {"data_inputs": records, "separator": " ", "chunk_size": 3, "chunk_overlap": 0}
    ran = await run(engine, flow([("s", "SplitText", base)]))
    assert ran.out("s", "chunks") == [
        {"text": "aaa", "source": "x.txt"},
        {"text": "bbb", "source": "x.txt"},
        {"text": "ccc", "source": "y.txt"},
    ]
    ran = await run(engine, flow([("s", "SplitText", {**base, "clean_output": True})]))
    assert ran.out("s", "chunks") == [{"text": "aaa"}, {"text": "bbb"}, {"text": "ccc"}]


async def test_recursive_mode_respects_chunk_size(engine: Engine) -> None:
    text = "First paragraph is here.\n\nSecond one is a bit longer than that one."
    doc = flow(
        [
            (
                "s",
                "SplitText",
                {"data_inputs": text, "mode": "Recursive", "chunk_size": 20, "chunk_overlap": 0},
            )
        ]
    )
    ran = await run(engine, doc)
    texts = [c["text"] for c in ran.out("s", "chunks")]
    assert all(len(t) <= 20 for t in texts)
    assert " ".join(texts).split() == text.split()


async def test_chunks_feed_a_parser(engine: Engine) -> None:
    doc = flow(
        [
            (
                "s",
                "SplitText",
                {"data_inputs": "x,y", "separator": ",", "chunk_size": 1, "chunk_overlap": 0},
            ),
            ("p", "ParserComponent", {"pattern": "<{text}>", "sep": ""}),
        ],
        [("s.chunks", "p.input_data")],
    )
    ran = await run(engine, doc)
    assert ran.text("p") == "<x><y>"


async def test_overlap_not_below_chunk_size_is_an_error(engine: Engine) -> None:
    doc = flow([("s", "SplitText", {"data_inputs": "abc", "chunk_size": 10, "chunk_overlap": 10})])
    ran = await run(engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "s"
    assert "chunk_overlap" in (ran.result.error or "")


def test_split_helpers() -> None:
    assert merge_splits(["aa", "bb", "cc"], "-", 5, 0) == ["aa-bb", "cc"]
    assert split_recursive("abcdefgh", ("\n", ""), 3, 0) == ["abc", "def", "gh"]
