"""The assistant's request and answers (the seed's Agentic group)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from flowdeck.schemas.base import Schema

_Ref = Annotated[str, Field(max_length=256)]


class AssistantRequest(Schema):
    flow_id: _Ref
    component_id: _Ref | None = None
    field_name: _Ref | None = None
    input_value: str | None = Field(None, max_length=100_000)
    max_retries: int | None = Field(
        None,
        ge=0,
        le=10,
        description="new attempts when the reply's component code fails its check",
    )
    model_name: Annotated[str, Field(max_length=128)] | None = None
    provider: Annotated[str, Field(max_length=64)] | None = None
    session_id: _Ref | None = None


class ModelChoice(Schema):
    name: str
    display_name: str


class ProviderChoice(Schema):
    name: str  # the provider_key Assist takes as `provider`
    display_name: str
    configured: bool
    default_model: str | None
    models: list[ModelChoice]


class AssistantConfig(Schema):
    configured: bool
    configured_providers: list[str]
    providers: list[ProviderChoice]
    default_provider: str | None
    default_model: str | None


class AssistantAnswer(Schema):
    result: str
    run_id: str
    session_id: str
    provider: str
    model_name: str
    # When the reply holds a code block: whether it declares a stored component.
    validated: bool | None = None
    validation_error: str | None = None
    validation_attempts: int = 0
    component_code: str | None = None
