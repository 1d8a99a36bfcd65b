"""What each route needs, declared on its endpoint: a privilege, a signed-in caller, or nothing.

    @router.get("/flows/")
    @requires(Module.FLOWS, Op.READ)
    async def read_flows(...): ...

`GuardedRoute` (flowdeck.access.guard) reads the declaration and enforces it before the
request's body is read; a route that declares nothing is refused (fail closed), and the
route-policy test names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from flowdeck.access.catalog import Module, Op, Privilege

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__flowdeck_access__"

Kind = Literal["public", "signed_in", "privilege"]


@dataclass(frozen=True, slots=True)
class Access:
    kind: Kind
    privilege: Privilege | None = None
    # The stored privilege id, computed once: the check is a set lookup per request.
    priv_id: str | None = None
    # Where a seed answers an unidentified caller with 403 rather than 401.
    anonymous_forbidden: bool = False
    # Whether the session cookie alone identifies the caller (run endpoints: no, as
    # Langflow's, so a page on another site cannot start runs in a logged-in browser).
    cookie: bool = True


def _declare(access: Access) -> Callable[[F], F]:
    def mark(endpoint: F) -> F:
        if getattr(endpoint, ATTRIBUTE, None) is not None:
            raise TypeError(f"{endpoint.__qualname__} declares its access twice")
        setattr(endpoint, ATTRIBUTE, access)
        return endpoint

    return mark


def requires(
    module: Module, op: Op, *, anonymous_forbidden: bool = False, cookie: bool = True
) -> Callable[[F], F]:
    """The route needs privilege `op` on `module` in the tenant the request acts in."""
    privilege = Privilege(module, op)
    return _declare(Access("privilege", privilege, privilege.priv_id, anonymous_forbidden, cookie))


def signed_in(endpoint: F) -> F:
    """Any signed-in caller may use the route (it acts on the caller alone: whoami, logout)."""
    return _declare(Access("signed_in"))(endpoint)


def public(endpoint: F) -> F:
    """Anyone may use the route, without credentials (health, login, public flows)."""
    return _declare(Access("public"))(endpoint)


def access_of(endpoint: Callable[..., Any] | None) -> Access | None:
    return getattr(endpoint, ATTRIBUTE, None)
