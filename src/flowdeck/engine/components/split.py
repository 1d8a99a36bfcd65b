"""Split text into chunks: Langflow's SplitText, without a text-splitter dependency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdeck.engine.components._values import records
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, to_text

# Langflow's separator dropdown spells some separators this way.
_NAMED_SEPARATORS = {"/n/n": "\n\n", "/n": "\n", "/t": "\t", '" "': " ", '""': ""}
_RECURSIVE_SEPARATORS = ("\n\n", "\n", " ", "")
_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\r"}


def _unescape(text: str) -> str:
    """`\\n` typed into a field means a newline."""
    text = _NAMED_SEPARATORS.get(text, text)
    for escaped, char in _ESCAPES.items():
        text = text.replace(escaped, char)
    return text


def merge_splits(splits: list[str], separator: str, size: int, overlap: int) -> list[str]:
    """Greedily join pieces into chunks of at most `size`, repeating up to `overlap` chars."""
    chunks: list[str] = []
    current: list[str] = []
    total = 0
    sep_len = len(separator)
    for piece in splits:
        extra = len(piece) + (sep_len if current else 0)
        if total + extra > size and current:
            chunk = separator.join(current).strip()
            if chunk:
                chunks.append(chunk)
            # Drop pieces from the front until what is left may serve as the overlap.
            while total > overlap or (total + extra > size and total > 0):
                total -= len(current[0]) + (sep_len if len(current) > 1 else 0)
                current.pop(0)
            extra = len(piece) + (sep_len if current else 0)
        current.append(piece)
        total += extra
    chunk = separator.join(current).strip()
    if chunk:
        chunks.append(chunk)
    return chunks


def split_character(text: str, separator: str, size: int, overlap: int) -> list[str]:
    pieces = text.split(separator) if separator else list(text)
    return merge_splits([p for p in pieces if p], separator, size, overlap)


def split_recursive(text: str, separators: tuple[str, ...], size: int, overlap: int) -> list[str]:
    """Split on the first separator present; split pieces still too long on the next ones."""
    separator, rest = separators[-1], separators[:0]
    for i, sep in enumerate(separators):
        if sep == "" or sep in text:
            separator, rest = sep, separators[i + 1 :]
            break
    pieces = text.split(separator) if separator else list(text)
    chunks: list[str] = []
    short: list[str] = []
    for piece in (p for p in pieces if p):
        if len(piece) <= size:
            short.append(piece)
            continue
        if short:
            chunks.extend(merge_splits(short, separator, size, overlap))
            short = []
        if rest:
            chunks.extend(split_recursive(piece, rest, size, overlap))
        else:
            chunks.append(piece)
    if short:
        chunks.extend(merge_splits(short, separator, size, overlap))
    return chunks


class SplitText(Component):
    type_name = "SplitText"
    display_name = "Split Text"
    description = "Split text into chunks of a given size, with overlap."
    category = "processing"
    inputs = (
        Input(
            "data_inputs",
            DataType.ANY,
            required=True,
            display_name="Input",
            info="Text, a message, a Data record or a list of them.",
        ),
        Input(
            "mode",
            DataType.TEXT,
            default="Character",
            options=("Character", "Recursive"),
            info="Character: split on one separator. Recursive: try several in turn.",
        ),
        Input("chunk_size", DataType.NUMBER, default=1000),
        Input("chunk_overlap", DataType.NUMBER, default=200),
        Input(
            "separator",
            DataType.TEXT,
            default="\n",
            info="Character mode's separator; \\n means a newline.",
        ),
        Input("custom_separator", DataType.TEXT, default="", advanced=True),
        Input("text_key", DataType.TEXT, default="text", advanced=True),
        Input(
            "clean_output",
            DataType.BOOLEAN,
            default=False,
            advanced=True,
            info="Keep only the text key, dropping the input record's other keys.",
        ),
    )
    # `chunks` is Langflow 1.1's output name, `dataframe` the later one; both carry the list.
    outputs = (
        Output("chunks", DataType.LIST, "Chunks"),
        Output("dataframe", DataType.LIST, "Chunks (table)"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        size = int(params["chunk_size"] or 1000)
        overlap = int(params["chunk_overlap"] or 0)
        if size <= 0:
            raise ValueError("chunk_size must be positive")
        if overlap < 0 or overlap >= size:
            raise ValueError(f"chunk_overlap must be between 0 and chunk_size ({size})")
        key = params["text_key"] or "text"
        separator = params["separator"] if params["separator"] is not None else "\n"
        if separator == "Custom":
            separator = params["custom_separator"] or ""
        separator = _unescape(separator)
        out: list[dict[str, Any]] = []
        for rec in records(params["data_inputs"]):
            text = to_text(rec.get(key, ""))
            if params["mode"] == "Recursive":
                pieces = split_recursive(text, _RECURSIVE_SEPARATORS, size, overlap)
            else:
                pieces = split_character(text, separator, size, overlap)
            meta = {} if params["clean_output"] else {k: v for k, v in rec.items() if k != key}
            out.extend({key: piece, **meta} for piece in pieces)
        ctx.log(f"split into {len(out)} chunks")
        return {"chunks": out, "dataframe": out}
