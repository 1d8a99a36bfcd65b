"""Size caps: small values pass untouched, big ones are cut to the cap and marked."""

from __future__ import annotations

import orjson

from flowdeck.runs.caps import MARK, cap, cap_fields, size


def test_small_values_are_the_same_object() -> None:
    value = {"outputs": [{"text": "hello", "n": 1}], "nested": {"a": ["b", None, 2.5]}}
    capped, cut = cap(value, 1024)
    assert capped is value
    assert cut is False


def test_the_cap_is_in_bytes_of_json() -> None:
    value = {"text": "é" * 500}  # 500 characters, 1,000 bytes of UTF-8
    assert cap(value, 1024) == (value, False)
    capped, cut = cap(value, 900)
    assert cut is True
    assert size(capped) <= 900


def test_a_long_string_is_cut_and_marked_everywhere_it_is() -> None:
    big = "x" * 1_000_000
    value = {"data": {"outputs": {"m": big}, "results": {"m": big}}, "small": "kept"}
    capped, cut = cap(value, 10_000)
    assert cut is True
    assert size(capped) <= 10_000
    assert capped[MARK] is True
    assert capped["data"][MARK] is True
    assert capped["small"] == "kept"
    assert capped["data"]["outputs"]["m"].endswith(f"[{MARK}: 1000000 characters in all]")
    assert value["data"]["outputs"]["m"] is big  # the original is left alone


def test_many_small_parts_become_a_preview() -> None:
    value = [f"item {i}" for i in range(100_000)]
    capped, cut = cap(value, 4096)
    assert cut is True
    assert capped[MARK] is True
    assert capped["size"] == len(orjson.dumps(value))
    assert size(capped) <= 4096


def test_cap_fields_keeps_each_column_its_type() -> None:
    row = {"id": "r", "text": "y" * 50_000, "properties": {"k": "v"}}
    assert cap_fields(row, ("text", "properties"), 4096) is True
    assert row["id"] == "r"
    assert row["text"].endswith(f"[{MARK}: 50000 characters in all]")
    assert row["properties"] == {"k": "v"}
    many = {"steps": [{"n": i} for i in range(50_000)], "error": "e" * 10}
    assert cap_fields(many, ("steps", "error"), 4096) is True
    assert isinstance(many["steps"], list)
    assert many["steps"][0][MARK] is True
    assert isinstance(many["error"], str)
    untouched = {"text": "short"}
    assert cap_fields(untouched, ("text",), 4096) is False
    assert untouched == {"text": "short"}
