"""`kefu serve` and `kefu users …`, registered on kefu's command line by ``register``.

Only typer is imported at module level, so `kefu --help` works without the app extra.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import socket

    from sqlalchemy.orm import Session, sessionmaker

    from kefu.app.settings import Settings

users_app = typer.Typer(help="Users of the web app: add, list, disable, reset passwords.",
                        no_args_is_help=True)

WorkspaceOpt = Annotated[
    Path | None, typer.Option("--workspace", help="workspace folder (default $KEFU_WORKSPACE)")
]


def _settings(workspace: Path | None, demo: bool = False) -> Settings:
    try:
        from kefu.app.settings import Settings
    except ImportError as exc:  # pragma: no cover - depends on the install
        typer.echo(f"the web app needs its extra: pip install 'kefu[app]' ({exc})", err=True)
        raise typer.Exit(2) from exc
    overrides: dict[str, object] = {}
    if workspace is not None:
        overrides["workspace"] = workspace
    if demo:
        overrides["demo"] = True
    return Settings(**overrides)  # type: ignore[arg-type]


def _db(settings: Settings) -> sessionmaker[Session]:
    from kefu.app import db

    engine = db.make_engine(settings.db_url)
    db.upgrade(engine)
    return db.session_factory(engine)


def _first_admin(factory: sessionmaker[Session]) -> None:
    """The first run creates the admin (password printed once)."""
    from sqlalchemy import select

    from kefu.app import directory
    from kefu.app.models import Role, User

    with factory() as db, db.begin():
        if db.scalar(select(User).limit(1)) is not None:
            return
        password = secrets.token_urlsafe(12)
        directory.add_user(db, "admin", password, [Role.admin])
    typer.echo(f"created the first user: admin / {password} (change it: kefu users "
               "reset-password admin)")


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workspace: WorkspaceOpt = None,
    demo: Annotated[bool, typer.Option(help="load the demo shop and demo users")] = False,
    workers: Annotated[int, typer.Option(
        min=1, help="server processes (pages of one process share one CPU core; each "
                    "process holds its own drill-down session, i.e. its own copy of the facts)",
    )] = 1,
) -> None:
    """Serve the web app (FastAPI + uvicorn)."""
    from kefu.app.settings import SettingsError

    settings = _settings(workspace, demo)
    try:
        settings.check_serving()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    import uvicorn

    from kefu.app.main import create_app

    app = create_app(settings)
    if demo:
        from kefu.app.demo import setup_demo

        logins = setup_demo(app.state.db, settings.workspace, settings.tz, app.state.runner)
        typer.echo(f"demo logins (http://{host}:{port}/login):")
        typer.echo(f"  {'user':<9} {'password':<19} {'role':<9} sees")
        for login in logins:
            roles = ",".join(r.value for r in login.roles)
            typer.echo(f"  {login.username:<9} {login.password:<19} {roles:<9} "
                       f"{' '.join(login.links) or '-'}")
    else:
        _first_admin(app.state.db)
    if workers == 1:
        from kefu.app.main import warm

        warm(app)  # not on the first views
        uvicorn.run(app, host=host, port=port)
        return
    _serve_workers(settings, host, port, workers)


def _serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """uvicorn's worker processes, each building the app from the environment
    (kefu.app.main:worker_app): the settings given on the command line go there.

    On Linux each worker listens on a socket of its own, all bound to the same port with
    SO_REUSEPORT, so the kernel spreads new connections evenly over the workers. With
    uvicorn's one shared socket, the worker that wakes first accepts every connection
    waiting: the bench's 50 keep-alive clients all landed on one worker (one CPU core)
    while the other idled, which doubled latency under load."""
    import os
    import sys

    import uvicorn

    os.environ["KEFU_WORKSPACE"] = str(settings.workspace.resolve())
    os.environ["KEFU_DEMO"] = "true" if settings.demo else "false"
    if not sys.platform.startswith("linux"):  # elsewhere SO_REUSEPORT does not balance
        uvicorn.run("kefu.app.main:worker_app", factory=True, host=host, port=port,
                    workers=workers)
        return
    import inspect
    from typing import Any

    from uvicorn.supervisors import multiprocess

    # uvicorn before ~0.36 passed the server's run function (target) along; later not
    takes_target = "target" in inspect.signature(multiprocess.Process.__init__).parameters
    process_of: Any = multiprocess.Process

    class OwnSockets(multiprocess.Multiprocess):
        """Worker i serves socket i, and so does the worker started in its place (it
        died, did not answer the health check, or SIGHUP)."""

        def init_processes(self) -> None:
            for sock in self.sockets:
                where = (self.config, getattr(self, "target", None), [sock]) if (
                    takes_target) else (self.config, [sock])
                process = process_of(*where)
                process.start()
                self.processes.append(process)

        def _one_by_one(self, method: Any) -> None:
            """uvicorn's ``method`` for each worker alone, as if it were the only one
            and its socket the only socket (uvicorn starts a new worker with them)."""
            processes, sockets = self.processes, self.sockets
            try:
                for index, sock in enumerate(sockets):
                    self.processes, self.sockets = [processes[index]], [sock]
                    method()
                    processes[index] = self.processes[0]
            finally:
                self.processes, self.sockets = processes, sockets

        def keep_subprocess_alive(self) -> None:
            self._one_by_one(super().keep_subprocess_alive)

        def restart_all(self) -> None:
            self._one_by_one(super().restart_all)

    options: dict[str, Any] = {}
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        # a worker answers the health check only once imported; under load that took
        # over uvicorn's 5 s, and uvicorn killed and started it again, many times over
        options["timeout_worker_healthcheck"] = 60
    config = uvicorn.Config("kefu.app.main:worker_app", factory=True, host=host, port=port,
                            workers=workers, **options)
    sockets = listening_sockets(host, port, workers, config.backlog)
    supervisor: Any = OwnSockets
    try:
        if takes_target:
            supervisor(config, target=uvicorn.Server(config).run, sockets=sockets).run()
        else:
            supervisor(config, sockets=sockets).run()
    finally:
        for sock in sockets:
            sock.close()


def listening_sockets(host: str, port: int, count: int,
                      backlog: int = 2048) -> list[socket.socket]:
    """``count`` listening TCP sockets on the same address and port (SO_REUSEPORT: the
    kernel hands each new connection to one of them). Port 0: a free port, the same
    for all."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]  # port 0 picked one: the others take the same
            sock.listen(backlog)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="agent, lead, qa, director, admin")],
    agent: Annotated[list[str] | None, typer.Option("--agent", help="agent id to link")] = None,
    team: Annotated[list[str] | None, typer.Option("--team", help="team the user leads")] = None,
    shop: Annotated[list[str] | None, typer.Option("--shop", help="shop the user sees")] = None,
    password: Annotated[str | None, typer.Option(help="default: a random one, printed")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a user with roles and links (agent accounts, teams, shops of the imported data)."""
    from kefu.app import directory
    from kefu.app.models import LinkKind, Role

    settings = _settings(workspace)
    factory = _db(settings)
    secret = password or secrets.token_urlsafe(12)
    try:
        roles = [Role(r) for r in role]
        with factory() as db, db.begin():
            directory.sync_agents(db, settings.workspace)
            user = directory.add_user(db, username, secret, roles)
            for kind, values in ((LinkKind.agent, agent), (LinkKind.team, team),
                                 (LinkKind.shop, shop)):
                for value in values or []:
                    directory.link(db, user, kind, value)
    except (ValueError, directory.UserError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"added {username} ({', '.join(role)})" + ("" if password else f": {secret}"))


@users_app.command("list")
def users_list(workspace: WorkspaceOpt = None) -> None:
    """List users with their roles and links."""
    from sqlalchemy import select

    from kefu.app.models import User

    factory = _db(_settings(workspace))
    with factory() as db:
        for user in db.scalars(select(User).order_by(User.username)):
            roles = ",".join(sorted(r.role for r in user.roles))
            links = " ".join(f"{k.kind}:{k.value}" for k in user.links)
            state = "" if user.active else " (disabled)"
            typer.echo(f"{user.username}{state}\t{roles}\t{links}")


@users_app.command("disable")
def users_disable(username: str, workspace: WorkspaceOpt = None) -> None:
    """Disable a user and end their sessions."""
    _change_user(username, workspace, disable=True)


@users_app.command("reset-password")
def users_reset_password(
    username: str,
    password: Annotated[str | None, typer.Option(help="default: a random one, printed")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Set a new password (ends the user's sessions)."""
    _change_user(username, workspace, password=password or secrets.token_urlsafe(12),
                 show=password is None)


def _change_user(username: str, workspace: Path | None, disable: bool = False,
                 password: str | None = None, show: bool = False) -> None:
    from kefu.app import audit, directory, security

    factory = _db(_settings(workspace))
    try:
        with factory() as db, db.begin():
            user = directory.find_user(db, username)
            if disable:
                user.active = False
            if password is not None:
                if len(password) < 8:
                    raise directory.UserError("a password has at least 8 characters")
                user.password_hash = security.hash_password(password)
            security.end_user_sessions(db, user.id)
            audit.record(db, "cli", "user.disable" if disable else "user.reset_password",
                         "user", user.id)
    except directory.UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{username}: " + ("disabled" if disable else "password changed")
               + (f": {password}" if show else ""))


def register(app: typer.Typer) -> None:
    """Add `serve` and `users` to kefu's command line."""
    app.command()(serve)
    app.add_typer(users_app, name="users")
