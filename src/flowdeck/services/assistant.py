"""The assistant: flows shipped with flowdeck, run through one of the tenant's model providers.

Each call runs a shipped flow file (`agentic_flows/`) as a normal recorded run (trigger
`assistant`) of the tenant the request acts in; its chat model names a registered provider
and model, so any OpenAI-compatible endpoint serves it. When a reply holds a code block, the
code is checked as a stored component would be, and a failing check asks the model again
(up to `max_retries` more runs), as Langflow's assistant does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from flowdeck.access.principal import Principal
from flowdeck.db.models import ModelProvider, ProviderModel, Run
from flowdeck.engine.components.stored import DeclarationError, declaration
from flowdeck.errors import InvalidInputError, NotFoundError, UnprocessableError
from flowdeck.runs.states import RunState
from flowdeck.schemas.agentic import (
    AssistantAnswer,
    AssistantConfig,
    AssistantRequest,
    ModelChoice,
    ProviderChoice,
)
from flowdeck.services.container import Services
from flowdeck.services.execution import events_since, start_run, wait_for_end

FLOWS = Path(__file__).resolve().parent.parent / "agentic_flows"
ASSISTANT = "assistant"
MAX_RETRIES = 3
TRIGGER = "assistant"
_FLOW_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CODE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)


@lru_cache(maxsize=16)
def _flow_bytes(name: str) -> bytes:
    return (FLOWS / f"{name}.json").read_bytes()


def flow_file(name: str) -> dict[str, Any]:
    """A shipped flow by name (a fresh copy); 404 naming `flow_name` for any other name."""
    if not _FLOW_NAME.match(name) or not (FLOWS / f"{name}.json").is_file():
        raise NotFoundError(f"no assistant flow named {name!r}", field="flow_name")
    doc: dict[str, Any] = orjson.loads(_flow_bytes(name))
    return doc


async def assistant_config(services: Services, principal: Principal) -> AssistantConfig:
    """The tenant's active providers, whether each can be called, and their chat models."""
    stmt = (
        select(ModelProvider, ProviderModel)
        .join(ProviderModel, ProviderModel.provider_id == ModelProvider.provider_id)
        .where(
            ModelProvider.tenant_id == principal.tenant_id,
            ModelProvider.is_active.is_(True),
            ProviderModel.is_active.is_(True),
            ProviderModel.model_type == "llm",
            ProviderModel.is_deprecated.is_(False),
            ProviderModel.is_not_supported.is_(False),
        )
        .order_by(ModelProvider.key_order, ModelProvider.provider_key, ProviderModel.key_order)
        .order_by(ProviderModel.model_name)
    )
    async with services.db.read_sessions() as session:
        found = list((await session.execute(stmt)).all())
    providers: dict[str, ProviderChoice] = {}
    defaults: dict[str, str] = {}
    for provider, model in found:
        choice = providers.get(provider.provider_key)
        if choice is None:
            callable_now = bool(provider.base_url) and (
                bool(provider.api_key_sealed) or not provider.requires_api_key
            )
            choice = providers[provider.provider_key] = ProviderChoice(
                name=provider.provider_key,
                display_name=provider.provider_name,
                configured=callable_now,
                default_model=None,
                models=[],
            )
        choice.models.append(
            ModelChoice(
                name=model.model_name, display_name=model.model_display_name or model.model_name
            )
        )
        if model.is_default:
            defaults.setdefault(provider.provider_key, model.model_name)
    for key, choice in providers.items():
        choice.default_model = defaults.get(key) or choice.models[0].name
    configured = [p for p in providers.values() if p.configured]
    first = configured[0] if configured else None
    return AssistantConfig(
        configured=bool(configured),
        configured_providers=[p.name for p in configured],
        providers=list(providers.values()),
        default_provider=first.name if first else None,
        default_model=first.default_model if first else None,
    )


async def choose_model(
    services: Services, principal: Principal, provider: str | None, model_name: str | None
) -> tuple[str, str]:
    """The provider and model a call runs with: the ones asked for, else the defaults."""
    config = await assistant_config(services, principal)
    if not config.configured:
        raise InvalidInputError(
            "no model provider is configured: register one with a base_url (and its API key) "
            "and an active llm model under /api/v1/models/providers",
            field="provider",
        )
    usable = {p.name: p for p in config.providers if p.configured}
    chosen = usable.get(provider or config.default_provider or "")
    if chosen is None:
        raise InvalidInputError(
            f"provider {provider!r} is not configured; configured: {sorted(usable)}",
            field="provider",
        )
    model = model_name or chosen.default_model or ""
    if model not in {m.name for m in chosen.models}:
        raise InvalidInputError(
            f"model {model!r} is not an active chat model of provider {chosen.name!r}",
            field="model_name",
        )
    return chosen.name, model


def reply_text(outputs: dict[str, Any] | None) -> str:
    """The chat reply of a finished run, from its RunResponse."""
    for run_output in (outputs or {}).get("outputs") or []:
        for result in run_output.get("outputs") or []:
            message = (result.get("outputs") or {}).get("message") or {}
            if isinstance(message, dict) and isinstance(message.get("message"), str):
                return str(message["message"])
    return ""


def checked_code(text: str) -> tuple[str | None, str | None]:
    """The reply's code block and, when it declares no stored component, why."""
    found = _CODE.search(text)
    if found is None:
        return None, None
    code = found.group(1)
    try:
        declaration(code)
    except DeclarationError as exc:
        return code, str(exc)
    return code, None


class AssistantCall:
    """One call of a shipped flow for a caller, in the tenant the request acts in."""

    def __init__(
        self, services: Services, principal: Principal, body: AssistantRequest, flow_name: str
    ) -> None:
        self.services = services
        self.principal = principal
        self.body = body
        self.flow_name = flow_name
        self.doc = flow_file(flow_name)
        self.session_id = body.session_id or uuid.uuid4().hex
        self.provider = ""
        self.model_name = ""
        self.retries = MAX_RETRIES if body.max_retries is None else body.max_retries

    async def prepare(self) -> None:
        self.provider, self.model_name = await choose_model(
            self.services, self.principal, self.body.provider, self.body.model_name
        )

    async def start(self, input_value: str) -> Run:
        context = {
            "flow_id": self.body.flow_id,
            "component_id": self.body.component_id or "none",
            "field_name": self.body.field_name or "none",
        }
        request = {
            "input_value": input_value,
            "input_type": "chat",
            "output_type": "chat",
            "session_id": self.session_id,
            "tweaks": {
                "model": {"provider": self.provider, "model_name": self.model_name},
                "context": context,
            },
        }
        meta = {"agentic_flow": self.flow_name, "for_flow_id": self.body.flow_id}
        return await start_run(
            self.services,
            flow=None,
            user=self.principal.user,
            trigger=TRIGGER,
            request=request,
            graph_data=self.doc,
            tenant_id=self.principal.tenant_id,
            meta=meta,
        )

    def answer(
        self, run: Run, text: str, attempts: int, code: str | None, error: str | None
    ) -> AssistantAnswer:
        return AssistantAnswer(
            result=text,
            run_id=run.id,
            session_id=self.session_id,
            provider=self.provider,
            model_name=self.model_name,
            validated=None if code is None else error is None,
            validation_error=error,
            validation_attempts=attempts if code is not None else 0,
            component_code=code,
        )

    def retry_prompt(self, error: str) -> str:
        return (
            f"The component code you wrote fails its check: {error}\n"
            "Answer again with the whole corrected code block.\n\n"
            f"The request was: {self.body.input_value or ''}"
        )

    async def finished(self, run: Run) -> str:
        final = await wait_for_end(self.services, run.id, run)
        if final.state != RunState.COMPLETED:
            raise UnprocessableError(
                f"the assistant's run {final.id} {final.state}: {final.error or 'no reply'}",
                field="provider",
                run_id=final.id,
            )
        return reply_text(final.outputs)

    async def run(self, validate: bool) -> AssistantAnswer:
        """Run to the end; with `validate`, ask again while the reply's code fails its check."""
        text_in = self.body.input_value or ""
        attempt = 0
        while True:
            attempt += 1
            run = await self.start(text_in)
            text = await self.finished(run)
            code, error = checked_code(text) if validate else (None, None)
            if error is None or attempt > self.retries:
                return self.answer(run, text, attempt, code, error)
            text_in = self.retry_prompt(error)

    async def stream(self) -> AsyncIterator[dict[str, Any]]:
        """Langflow's assistant events: progress, each token as it comes, complete or error."""
        text_in = self.body.input_value or ""
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            yield {
                "event": "progress",
                "step": "generating",
                "attempt": attempt,
                "max_attempts": attempts,
            }
            run = await self.start(text_in)
            async for _, name, data in events_since(self.services, run, 0):
                if name == "token":
                    yield {"event": "token", "chunk": data.get("chunk", "")}
            try:
                text = await self.finished(run)
            except UnprocessableError as exc:
                yield {"event": "error", "message": exc.message, "run_id": run.id}
                return
            code, error = checked_code(text)
            if code is not None:
                step = "validated" if error is None else "validation_failed"
                progress = {
                    "event": "progress",
                    "step": step,
                    "attempt": attempt,
                    "max_attempts": attempts,
                }
                yield {**progress, **({"error": error} if error else {})}
            if error is None or attempt == attempts:
                yield {
                    "event": "complete",
                    "data": self.answer(run, text, attempt, code, error).model_dump(),
                }
                return
            text_in = self.retry_prompt(error)
