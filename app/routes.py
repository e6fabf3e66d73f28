"""The whole URL map on one screen."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from app.accounts.oidc.views import routes as single_sign_on_routes
from app.accounts.password_reset_views import routes as password_reset_routes
from app.accounts.views import routes as account_routes
from app.admin.deletion import routes as admin_deletion_routes
from app.admin.views import routes as admin_routes
from app.agent_configs.views import routes as agent_routes
from app.api.admin import routes as api_admin_routes
from app.api.agents import routes as api_agent_routes
from app.api.docs import routes as api_doc_routes
from app.api.files import routes as api_file_routes
from app.api.me import routes as api_me_routes
from app.api.memories import routes as api_memory_routes
from app.api.providers import routes as api_provider_routes
from app.api.runs import routes as api_run_routes
from app.api.threads import routes as api_thread_routes
from app.api.tokens import routes as api_token_routes
from app.api.tool_settings import routes as api_tool_settings_routes
from app.api.transfer import routes as api_transfer_routes
from app.files.views import routes as file_routes
from app.health.metrics_views import routes as metrics_routes
from app.health.views import routes as health_routes
from app.mcp_endpoint.views import routes as mcp_endpoint_routes
from app.mcp_servers.oauth_views import routes as mcp_oauth_routes
from app.mcp_servers.system_views import routes as system_mcp_server_routes
from app.mcp_servers.views import routes as mcp_server_routes
from app.memory.views import routes as memory_routes
from app.openai_compat.views import routes as openai_routes
from app.preferences.install import routes as install_routes
from app.preferences.views import routes as settings_routes
from app.providers.views import routes as provider_routes
from app.runs.views import routes as run_routes
from app.system.api import routes as api_system_routes
from app.system.views import routes as system_routes
from app.threads.branch_views import routes as thread_branch_routes
from app.threads.views import routes as thread_routes
from app.tokens.views import routes as token_routes
from app.tool_settings.views import routes as tool_routes
from app.transfer.views import routes as transfer_routes

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

routes: list[BaseRoute] = [
    *health_routes,
    *metrics_routes,
    *account_routes,
    *settings_routes,
    *install_routes,
    *single_sign_on_routes,
    *password_reset_routes,
    *transfer_routes,  # before the threads': /threads/import is no thread
    *thread_routes,
    *thread_branch_routes,
    *run_routes,
    *file_routes,
    *provider_routes,
    *agent_routes,
    *token_routes,
    *memory_routes,
    *tool_routes,
    *mcp_server_routes,
    *mcp_oauth_routes,
    *system_mcp_server_routes,
    *admin_routes,
    *admin_deletion_routes,
    *system_routes,
    *api_me_routes,
    *api_agent_routes,
    *api_transfer_routes,
    *api_thread_routes,
    *api_run_routes,
    *api_memory_routes,
    *api_file_routes,
    *api_provider_routes,
    *api_tool_settings_routes,
    *api_token_routes,
    *api_admin_routes,
    *api_system_routes,
    *openai_routes,
    *mcp_endpoint_routes,
    *api_doc_routes,
    Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
]
