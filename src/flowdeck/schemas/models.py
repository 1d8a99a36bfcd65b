"""Model providers and their models, with the seed's field names.

A provider's `api_key` is write-only: it is stored sealed and every read shows it masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, ConfigDict, Field, StrictBool, field_validator

from flowdeck.auth.sealing import masked
from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id

_URL = 2048


class _Plain(Schema):
    # The seed's names start with `model_` (model_class, model_name...): allowed here.
    model_config = ConfigDict(protected_namespaces=())


class Audit(_Plain):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    c_uid: int | None
    m_uid: int | None
    ctime: datetime
    utime: datetime


class ProviderCreate(_Plain):
    provider_key: str = Field(min_length=1, max_length=64)
    provider_name: str = Field(min_length=1, max_length=64)
    icon: str = Field("Bot", max_length=64)
    variable_name: str = Field(min_length=1, max_length=128)
    requires_api_key: StrictBool = True
    api_docs_url: str | None = Field(None, max_length=_URL)
    model_class: str = Field(min_length=1, max_length=128)
    model_name_param: str = Field("model", max_length=64)
    api_key_param: str = Field("api_key", max_length=64)
    base_url_param: str | None = Field(None, max_length=64)
    base_url: str | None = Field(None, max_length=_URL)
    url_param: str | None = Field(None, max_length=64)
    max_tokens_field_name: str = Field("max_tokens", max_length=64)
    is_active: StrictBool = True
    key_order: Id = 0
    note: str | None = Field(None, max_length=2000)
    api_key: str | None = Field(None, max_length=4096, description="write-only; read masked")


class ProviderUpdate(_Plain):
    provider_key: str | None = Field(None, min_length=1, max_length=64)
    provider_name: str | None = Field(None, min_length=1, max_length=64)
    icon: str | None = Field(None, max_length=64)
    variable_name: str | None = Field(None, min_length=1, max_length=128)
    requires_api_key: StrictBool | None = None
    api_docs_url: str | None = Field(None, max_length=_URL)
    model_class: str | None = Field(None, min_length=1, max_length=128)
    model_name_param: str | None = Field(None, max_length=64)
    api_key_param: str | None = Field(None, max_length=64)
    base_url_param: str | None = Field(None, max_length=64)
    base_url: str | None = Field(None, max_length=_URL)
    url_param: str | None = Field(None, max_length=64)
    max_tokens_field_name: str | None = Field(None, max_length=64)
    is_active: StrictBool | None = None
    key_order: Id | None = None
    note: str | None = Field(None, max_length=2000)
    api_key: str | None = Field(
        None, max_length=4096, description="a new key; null or empty clears it; the mask keeps it"
    )


class ProviderRead(Audit):
    provider_key: str
    provider_name: str
    icon: str
    variable_name: str
    requires_api_key: bool
    api_docs_url: str | None
    model_class: str
    model_name_param: str
    api_key_param: str
    base_url_param: str | None
    base_url: str | None
    url_param: str | None
    max_tokens_field_name: str
    is_active: bool
    key_order: int
    note: str | None
    provider_id: int
    # Read from the sealed column and masked at once: the key itself is never opened here.
    api_key: str | None = Field(None, validation_alias=AliasChoices("api_key_sealed", "api_key"))

    @field_validator("api_key", mode="after")
    @classmethod
    def _mask(cls, value: str | None) -> str | None:
        return masked(value)


class _ModelFields(_Plain):
    model_display_name: str | None = Field(None, max_length=128)
    context_length: Id | None = Field(None, ge=0)
    is_default: StrictBool = False
    is_deprecated: StrictBool = False
    is_not_supported: StrictBool = False
    is_preview: StrictBool = False
    is_reasoning: StrictBool = False
    is_tool_calling: StrictBool = False
    is_search: StrictBool = False
    is_vl: StrictBool = False
    is_active: StrictBool = True
    key_order: Id = 0
    metadata: dict[str, Any] | None = None
    note: str | None = Field(None, max_length=2000)


class ModelCreate(_ModelFields):
    # Required on POST /api/v1/models; below /providers/{provider_id}/models the path names it.
    provider_id: Id | None = None
    model_name: str = Field(min_length=1, max_length=128)
    model_type: str = Field(min_length=1, max_length=128)


class ModelUpdate(_Plain):
    model_name: str | None = Field(None, min_length=1, max_length=128)
    model_display_name: str | None = Field(None, max_length=128)
    model_type: str | None = Field(None, min_length=1, max_length=128)
    context_length: Id | None = Field(None, ge=0)
    is_default: StrictBool | None = None
    is_deprecated: StrictBool | None = None
    is_not_supported: StrictBool | None = None
    is_preview: StrictBool | None = None
    is_reasoning: StrictBool | None = None
    is_tool_calling: StrictBool | None = None
    is_search: StrictBool | None = None
    is_vl: StrictBool | None = None
    is_active: StrictBool | None = None
    key_order: Id | None = None
    metadata: dict[str, Any] | None = None
    note: str | None = Field(None, max_length=2000)


class ModelRead(Audit):
    provider_id: int
    model_name: str
    model_display_name: str | None
    model_type: str
    context_length: int | None
    is_default: bool
    is_deprecated: bool
    is_not_supported: bool
    is_preview: bool
    is_reasoning: bool
    is_tool_calling: bool
    is_search: bool
    is_vl: bool
    is_active: bool
    key_order: int
    metadata: dict[str, Any] | None = Field(
        None, validation_alias=AliasChoices("model_metadata", "metadata")
    )
    note: str | None
    id: int


class ModelType(_Plain):
    model_type: str
    name: str
    description: str


# The kinds of model a provider may serve; a tenant may register others (listed too).
MODEL_TYPES = (
    ModelType(model_type="llm", name="LLM", description="chat and text completion"),
    ModelType(model_type="embedding", name="Embedding", description="text to vectors"),
    ModelType(model_type="rerank", name="Rerank", description="orders documents by relevance"),
    ModelType(model_type="image", name="Image", description="image generation"),
    ModelType(model_type="tts", name="Text to speech", description="speech from text"),
    ModelType(model_type="stt", name="Speech to text", description="text from speech"),
)
