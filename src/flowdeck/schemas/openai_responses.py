"""OpenAI-compatible Responses API (`POST /api/v1/responses`): request and response objects."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from flowdeck.schemas.base import Schema

ResponseStatus = Literal["queued", "in_progress", "completed", "failed", "cancelled"]


class ResponsesRequest(Schema):
    """The seed's fields; other OpenAI parameters (temperature, instructions...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, description="The flow to run: its id or endpoint name")
    # A string, or OpenAI's list of input items (the last user message's text is used).
    input: str | list[dict[str, Any]]
    stream: StrictBool = False
    background: StrictBool = False
    tools: list[Any] | None = Field(None, description="Tools are not supported yet")
    previous_response_id: str | None = None
    include: list[str] | None = None


class OutputText(Schema):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[Any] = Field(default_factory=list)


class OutputMessage(Schema):
    type: Literal["message"] = "message"
    id: str
    status: Literal["in_progress", "completed", "incomplete"]
    role: Literal["assistant"] = "assistant"
    content: list[OutputText] = Field(default_factory=list)


class ResponseError(Schema):
    code: str
    message: str


class ResponseObject(Schema):
    """OpenAI's Response object; `id` is the run's id."""

    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: ResponseStatus
    error: ResponseError | None = None
    incomplete_details: dict[str, Any] | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str
    output: list[OutputMessage] = Field(default_factory=list)
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    reasoning: dict[str, Any] = Field(default_factory=lambda: {"effort": None, "summary": None})
    store: bool = True
    temperature: float = 1.0
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: str = "auto"
    tools: list[Any] = Field(default_factory=list)
    top_p: float = 1.0
    truncation: str = "disabled"
    usage: dict[str, Any] | None = None
    user: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
