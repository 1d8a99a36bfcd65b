"""Every built-in component class, in the order `flowdeck components` lists them."""

from __future__ import annotations

from flowdeck.engine.components.base import Component
from flowdeck.engine.components.io import ChatInput, ChatOutput, TextInput, TextOutput

BUILTINS: tuple[type[Component], ...] = (
    ChatInput,
    ChatOutput,
    TextInput,
    TextOutput,
)
