"""The app's settings, each declared once with its default (env prefix KEFU_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me"  # noqa: S105 - the value refused outside demo mode


class SettingsError(RuntimeError):
    """Settings that must not be used to serve (e.g. the default secret outside demo mode)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", extra="ignore")

    workspace: Path = Field(Path("workspace"), description="workspace folder (kefu import)")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty = a SQLite file beside the workspace"
    )
    secret_key: str = Field(DEFAULT_SECRET, description="secret for tokens; set outside demo")
    demo: bool = Field(False, description="demo mode: the default secret is allowed")
    session_hours: float = Field(12.0, description="a session expires this long after sign-in")
    login_max_failures: int = Field(5, description="failed sign-ins per user in the window")
    login_window_min: int = Field(15, description="window of the sign-in throttle, minutes")
    secure_cookies: bool = Field(False, description="mark cookies Secure (behind HTTPS)")
    tz: str = Field("Asia/Shanghai", description="shop time zone of dates shown")

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = self.workspace.resolve().parent / f"{self.workspace.name}-app.sqlite3"
        return f"sqlite:///{path}"

    def check_serving(self) -> None:
        """Refuse to serve with the default secret outside demo mode."""
        if not self.demo and self.secret_key == DEFAULT_SECRET:
            raise SettingsError(
                "KEFU_SECRET_KEY is the default; set a long random value "
                "(or KEFU_DEMO=1 for a demo install)"
            )
