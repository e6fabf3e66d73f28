"""All tables; importing this package registers every model on Base.metadata."""

from app.models.agent import Agent
from app.models.file import StoredFile
from app.models.idempotency import IdempotencyKey
from app.models.mcp_server import McpServer
from app.models.memory import Memory
from app.models.oidc import OidcIdentity, OidcLoginRequest, OidcSession
from app.models.provider import Provider, ProviderKind
from app.models.run import Run, RunStatus, ToolEffect
from app.models.thread import FinishReason, Message, MessageRole, Thread
from app.models.tool import AgentSubagent, AgentTool, CustomTool, ToolSetting
from app.models.user import ApiToken, InviteCode, Role, TokenScope, User, UserSession

__all__ = [
    "Agent",
    "AgentSubagent",
    "AgentTool",
    "ApiToken",
    "CustomTool",
    "FinishReason",
    "IdempotencyKey",
    "InviteCode",
    "McpServer",
    "Memory",
    "Message",
    "MessageRole",
    "OidcIdentity",
    "OidcLoginRequest",
    "OidcSession",
    "Provider",
    "ProviderKind",
    "Role",
    "Run",
    "RunStatus",
    "StoredFile",
    "Thread",
    "TokenScope",
    "ToolEffect",
    "ToolSetting",
    "User",
    "UserSession",
]
