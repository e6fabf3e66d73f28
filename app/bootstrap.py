"""What `nova serve` does before it listens: seed providers, ensure an admin."""

from __future__ import annotations

from app.accounts.service import ensure_admin
from app.context import AppContext
from app.providers.seed import seed_system_providers


async def prepare_server(ctx: AppContext) -> list[str]:
    """Returns the lines to print for the operator (a generated password appears once)."""
    settings = ctx.settings
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    async with ctx.db.transaction() as session:
        seeded = await seed_system_providers(session, ctx.secretbox, settings)
        admin = await ensure_admin(session, settings.admin_email, password)
    lines = ["", f"  Nova is starting at {settings.public_url}/login"]
    if admin is not None:
        lines.append(f"  Admin account: {admin.email}")
        if admin.generated_password:
            lines.append(f"  Admin password (shown once): {admin.generated_password}")
            lines.append("  Nova asks for a new password at the first login.")
        else:
            lines.append("  Admin password: the one in NOVA_ADMIN_PASSWORD")
    else:
        lines.append("  Log in with your existing account.")
    if seeded:
        lines.append(f"  System providers from the environment: {seeded}")
    mode = "embedded (in-process jobs)" if settings.embedded else "Redis workers"
    lines.extend([f"  Database: {_describe(settings.resolved_database_url)}; jobs: {mode}", ""])
    return lines


def _describe(url: str) -> str:
    if url.startswith("sqlite"):
        return "SQLite at " + url.split(":///", 1)[-1]
    return "PostgreSQL"
