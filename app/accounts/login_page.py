"""The login page, which follows the login mode: a password form, a single sign-on button, or both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.settings import Settings
from app.web.deps import app_context
from app.web.templates import render


@dataclass(frozen=True)
class LoginOptions:
    password: bool
    single_sign_on: bool
    provider_name: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginOptions:
        mode = settings.login_mode
        return cls(mode in ("local", "both"), mode in ("both", "oidc"), settings.oidc_provider_name)


def render_login(
    request: Request, form: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status_code: int = 200
) -> HTMLResponse:
    context = {
        "form": form or {},
        "errors": errors or {},
        "login": LoginOptions.from_settings(app_context(request).settings),
    }
    return render(request, "accounts/login.html", context, status_code=status_code)
