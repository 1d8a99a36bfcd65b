"""Every table, imported here so the metadata and Alembic see them all."""

from flowdeck.db.models.access import ModulePriv, PermissionModule, Role, RolePriv, TenantUserRole
from flowdeck.db.models.ai import McpServer, ModelProvider, ProviderModel
from flowdeck.db.models.businesses import Business, BusinessUserRole
from flowdeck.db.models.components import ComponentGroup, ComponentVersion, CustomComponent
from flowdeck.db.models.configs import Config, DictEntry
from flowdeck.db.models.files import FileRecord
from flowdeck.db.models.flows import Flow, FlowTemplate, FlowVersion, Project
from flowdeck.db.models.identity import ApiKey, Tenant, User
from flowdeck.db.models.monitor import ChatSession, MessageRecord, Transaction, VertexBuild
from flowdeck.db.models.orgs import (
    Org,
    OrgMember,
    TenantGroupRole,
    TenantOrgRole,
    UserGroup,
    UserGroupMember,
)
from flowdeck.db.models.runs import Run, RunStoreBatch

__all__ = [
    "ApiKey",
    "Business",
    "BusinessUserRole",
    "ChatSession",
    "ComponentGroup",
    "ComponentVersion",
    "Config",
    "CustomComponent",
    "DictEntry",
    "FileRecord",
    "Flow",
    "FlowTemplate",
    "FlowVersion",
    "McpServer",
    "MessageRecord",
    "ModelProvider",
    "ModulePriv",
    "Org",
    "OrgMember",
    "PermissionModule",
    "Project",
    "ProviderModel",
    "Role",
    "RolePriv",
    "Run",
    "RunStoreBatch",
    "Tenant",
    "TenantGroupRole",
    "TenantOrgRole",
    "TenantUserRole",
    "Transaction",
    "User",
    "UserGroup",
    "UserGroupMember",
    "VertexBuild",
]
