"""Every router the app serves, in one list (add new resource modules here)."""

from __future__ import annotations

from fastapi import APIRouter

from flowdeck.api import api_keys, login, system, users

ROUTERS: list[APIRouter] = [
    system.router,
    login.router,
    users.router,
    api_keys.router,
]
