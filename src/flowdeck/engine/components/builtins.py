"""Every built-in component class, in the order `flowdeck components` lists them."""

from __future__ import annotations

from flowdeck.engine.components.api_request import APIRequest
from flowdeck.engine.components.base import Component
from flowdeck.engine.components.flow_control import Approval, Delay, WaitForInput
from flowdeck.engine.components.io import ChatInput, ChatOutput, TextInput, TextOutput
from flowdeck.engine.components.json_ops import JSONQuery, ParseJSON
from flowdeck.engine.components.loop import LoopComponent
from flowdeck.engine.components.mcp_tool import MCPTool
from flowdeck.engine.components.openai_chat import OpenAIChat
from flowdeck.engine.components.parse import ParserComponent, RegexExtractorComponent
from flowdeck.engine.components.prompt import PromptTemplate
from flowdeck.engine.components.python_function import PythonFunction
from flowdeck.engine.components.router import ConditionalRouter
from flowdeck.engine.components.split import SplitText
from flowdeck.engine.components.subflow import SubFlow
from flowdeck.engine.components.text import CombineText, ReplaceText, TextOperations
from flowdeck.engine.components.webhook import Webhook

BUILTINS: tuple[type[Component], ...] = (
    ChatInput,
    ChatOutput,
    TextInput,
    TextOutput,
    Webhook,
    PromptTemplate,
    CombineText,
    ReplaceText,
    TextOperations,
    SplitText,
    RegexExtractorComponent,
    ParserComponent,
    ParseJSON,
    JSONQuery,
    ConditionalRouter,
    LoopComponent,
    SubFlow,
    Delay,
    WaitForInput,
    Approval,
    APIRequest,
    OpenAIChat,
    MCPTool,
    PythonFunction,
)
