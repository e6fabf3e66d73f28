"""All tables; importing this package registers every model on Base.metadata."""

from app.models.agent import Agent
from app.models.provider import Provider, ProviderKind
from app.models.thread import Message, MessageRole, Thread
from app.models.user import ApiToken, InviteCode, Role, TokenScope, User, UserSession

__all__ = [
    "Agent",
    "ApiToken",
    "InviteCode",
    "Message",
    "MessageRole",
    "Provider",
    "ProviderKind",
    "Role",
    "Thread",
    "TokenScope",
    "User",
    "UserSession",
]
