"""The system modules, their privileges and the system roles that exist from the first start.

A privilege is one operation type on one module, as the seed's `priv_opr_type` names them:
READ for reads, lists, event streams and downloads; WRITE for creating and starting runs;
MODIFY for updates and run control; DELETE for deletes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Op(StrEnum):
    READ = "READ"
    WRITE = "WRITE"
    MODIFY = "MODIFY"
    DELETE = "DELETE"


class Module(StrEnum):
    FLOWS = "flows"
    RUNS = "runs"
    PROJECTS = "projects"
    FILES = "files"
    MONITOR = "monitor"
    USERS = "users"
    API_KEYS = "api_keys"
    TENANTS = "tenants"
    BUSINESSES = "businesses"
    ORGS = "orgs"
    ROLES = "roles"
    PERMISSIONS = "permissions"
    CONFIGS = "configs"
    DICTIONARY = "dictionary"
    LOGS = "logs"
    MODELS = "models"
    COMPONENTS = "components"
    MCP = "mcp"


MODULE_NAMES: dict[Module, str] = {
    Module.FLOWS: "Flows",
    Module.RUNS: "Runs",
    Module.PROJECTS: "Projects",
    Module.FILES: "Files",
    Module.MONITOR: "Monitor",
    Module.USERS: "Users",
    Module.API_KEYS: "API keys",
    Module.TENANTS: "Tenants",
    Module.BUSINESSES: "Businesses",
    Module.ORGS: "Organisations",
    Module.ROLES: "Roles and role bindings",
    Module.PERMISSIONS: "Permission modules and privileges",
    Module.CONFIGS: "Configs",
    Module.DICTIONARY: "Dictionary",
    Module.LOGS: "Server logs",
    Module.MODELS: "Models",
    Module.COMPONENTS: "Components",
    Module.MCP: "MCP",
}


@dataclass(frozen=True, slots=True)
class Privilege:
    module: Module
    op: Op

    @property
    def priv_id(self) -> str:
        """The privilege's id within its module, as stored (`module_privs.priv_id`)."""
        return f"{self.module}:{self.op}"

    def __str__(self) -> str:
        return f"{self.op} on {self.module}"


ALL_PRIVILEGES: frozenset[Privilege] = frozenset(Privilege(m, op) for m in Module for op in Op)

# Modules that administer the platform or a whole tenant: only tenant administrators hold
# them (and platform superusers, who administer tenants).
ADMIN_MODULES = frozenset(
    {
        Module.USERS,
        Module.TENANTS,
        Module.BUSINESSES,
        Module.ORGS,
        Module.ROLES,
        Module.PERMISSIONS,
        Module.CONFIGS,
        Module.DICTIONARY,
        Module.LOGS,
    }
)
WORK_MODULES = frozenset(Module) - ADMIN_MODULES


def _grant(modules: frozenset[Module], *ops: Op) -> frozenset[Privilege]:
    return frozenset(Privilege(m, op) for m in modules for op in ops)


# What only platform superusers (of the system tenant) do: tenants come and go, the
# privilege catalog changes, and server logs span every tenant.
PLATFORM_ONLY = (
    _grant(frozenset({Module.TENANTS}), Op.WRITE, Op.DELETE)
    | _grant(frozenset({Module.PERMISSIONS}), Op.WRITE, Op.MODIFY, Op.DELETE)
    | _grant(frozenset({Module.LOGS}), *Op)
)

TENANT_ADMIN = "tenant_admin"
DEVELOPER = "developer"
OPERATOR = "operator"
VIEWER = "viewer"

# Reading the tenant's users and roles is part of working in it (sharing, reviewers).
_SEE_PEOPLE = _grant(
    frozenset({Module.USERS, Module.ORGS, Module.ROLES, Module.PERMISSIONS}), Op.READ
)

SYSTEM_ROLES: dict[str, tuple[str, frozenset[Privilege]]] = {
    TENANT_ADMIN: ("Tenant administrator", ALL_PRIVILEGES - PLATFORM_ONLY),
    DEVELOPER: ("Developer", _grant(WORK_MODULES, *Op) | _SEE_PEOPLE),
    OPERATOR: (
        "Operator",
        _grant(WORK_MODULES, Op.READ)
        | _grant(frozenset({Module.RUNS, Module.API_KEYS}), Op.WRITE, Op.MODIFY)
        | _grant(frozenset({Module.FLOWS}), Op.MODIFY)
        | _grant(frozenset({Module.API_KEYS}), Op.DELETE)
        | _SEE_PEOPLE,
    ),
    VIEWER: ("Viewer", _grant(WORK_MODULES, Op.READ)),
}

# Roles that see every row of their tenant, not only their own (the tenant's administrators).
TENANT_WIDE_ROLES = frozenset({TENANT_ADMIN})
