"""Routes served with and without the trailing slash, as Langflow clients use both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter

F = TypeVar("F", bound=Callable[..., Any])


def both(router: APIRouter, method: str, path: str, **kwargs: Any) -> Callable[[F], F]:
    """Register `path`, and its twin (slash added or removed) hidden from the schema."""
    twin = path[:-1] if path.endswith("/") else f"{path}/"

    def register(endpoint: F) -> F:
        router.add_api_route(path, endpoint, methods=[method], **kwargs)
        router.add_api_route(
            twin, endpoint, methods=[method], **{**kwargs, "include_in_schema": False}
        )
        return endpoint

    return register
