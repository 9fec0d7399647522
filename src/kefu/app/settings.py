"""The app's settings: kefu's settings (KEFU_* variables, kefu.toml) plus the app's own.

The database URL, the secret and the analysis options are declared once in
kefu.config; the fields here exist only for the web app.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from kefu.config import Settings as CoreSettings

DEMO_SECRET = "kefu-demo-only-secret"  # noqa: S105 - used only with demo = true


class SettingsError(RuntimeError):
    """Settings that must not be used to serve (e.g. no secret outside demo mode)."""


class Settings(CoreSettings):
    workspace: Path = Field(Path("workspace"), description="workspace folder (kefu import)")
    demo: bool = Field(False, description="demo mode: serves without a secret of its own")
    session_hours: float = Field(12.0, gt=0, description="a session ends this long after sign-in")
    login_max_failures: int = Field(5, ge=1, description="failed sign-ins per user in the window")
    login_window_min: int = Field(15, ge=1, description="window of the sign-in throttle, minutes")
    secure_cookies: bool = Field(False, description="mark cookies Secure (serve behind HTTPS)")

    @property
    def db_url(self) -> str:
        """The app database: KEFU_DATABASE_URL, else a SQLite file beside the workspace."""
        if self.database_url:
            return self.database_url
        path = self.workspace.resolve().parent / f"{self.workspace.name}-app.sqlite3"
        return f"sqlite:///{path}"

    @property
    def secret(self) -> str:
        return self.secret_key or DEMO_SECRET

    def check_serving(self) -> None:
        """Refuse to serve with the default (demo) secret outside demo mode."""
        if not self.demo and self.secret == DEMO_SECRET:
            raise SettingsError(
                "KEFU_SECRET_KEY is not set; set a long random value "
                "(or serve with --demo for a demo install)"
            )
