"""The base of every schema: its validator is built when first used, not when its module loads.

Building a model's core schema is most of what importing a module of models costs; most are
first used long after start-up (a route's first request, the OpenAPI document), or never.
"""

from __future__ import annotations

import warnings

from pydantic import BaseModel, ConfigDict
from pydantic.warnings import UnsupportedFieldAttributeWarning

# FastAPI validates a body through a TypeAdapter of `Annotated[Model, Body(alias=<param>)]`;
# the alias is FastAPI's own (it names the parameter), yet pydantic, building a deferred
# model's schema inside that adapter, reports it as an alias with no effect.
warnings.filterwarnings(
    "ignore",
    message=r"The 'alias' attribute with value '\w+' was provided to the `Field\(\)` function",
    category=UnsupportedFieldAttributeWarning,
)


class Schema(BaseModel):
    model_config = ConfigDict(defer_build=True)
