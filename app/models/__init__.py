"""All tables; importing this package registers every model on Base.metadata."""

from app.models.agent import Agent
from app.models.file import StoredFile
from app.models.idempotency import IdempotencyKey
from app.models.mcp_oauth import McpOAuthGrant, McpOAuthRequest
from app.models.mcp_server import McpServer, SystemMcpServer
from app.models.memory import Memory
from app.models.oidc import OidcIdentity, OidcLoginRequest, OidcSession
from app.models.password_reset import PasswordReset
from app.models.provider import Provider, ProviderKind
from app.models.run import Run, RunStatus, ToolEffect
from app.models.summary import ThreadSummary
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
    "McpOAuthGrant",
    "McpOAuthRequest",
    "McpServer",
    "Memory",
    "Message",
    "MessageRole",
    "OidcIdentity",
    "OidcLoginRequest",
    "OidcSession",
    "PasswordReset",
    "Provider",
    "ProviderKind",
    "Role",
    "Run",
    "RunStatus",
    "StoredFile",
    "SystemMcpServer",
    "Thread",
    "ThreadSummary",
    "TokenScope",
    "ToolEffect",
    "ToolSetting",
    "User",
    "UserSession",
]
