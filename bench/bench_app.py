"""Dashboards and drill-down under load: N concurrent clients over loopback.

    .venv/bin/python bench/bench_app.py                        # 10,000,000 messages, 50 clients
    .venv/bin/python bench/bench_app.py --messages 200000      # a quick look
    .venv/bin/python bench/bench_app.py --clients 50 --requests 20
    .venv/bin/python bench/bench_app.py --messages 200000 --workers 2   # kefu serve --workers 2

Sets up the demo (kefu serve --demo: the demo shop of --messages messages over
January–June, a user of every role, June's run computed and published) in
bench/data/app-N/ (kept: a second call reuses it), serves it with
`kefu serve --demo --workers N` in a child process on 127.0.0.1, signs
--clients clients in (each as one of the roles, in turn; untimed, all before the
first timed request, so password hashing does not compete with the pages), then has
them all at once request their role's pages --requests times each, back to back.
Prints p50/p95/max of each page kind and of the two groups the issue sets goals
for: dashboards (p95 < 150 ms) and drill-down (p95 < 400 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

DASHBOARDS = ("agent", "director", "team", "qa")
DRILL_DOWN = ("evidence", "chat")


def _settings(folder: Path) -> Any:
    from kefu.app.settings import Settings

    return Settings(workspace=folder / "workspace", demo=True, secret_key="bench",
                    login_max_failures=10_000)


def setup(folder: Path, messages: int) -> None:
    from kefu.app.demo import setup_demo
    from kefu.app.main import create_app

    app = create_app(_settings(folder))
    started = time.perf_counter()
    setup_demo(app.state.db, app.state.settings.workspace, app.state.settings.tz,
               app.state.runner, messages=messages)
    app.state.runner.shutdown()
    print(f"setup: {time.perf_counter() - started:.1f} s (demo shop, import, run, trend)")


def serve(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """`kefu serve --demo --workers N` on the set-up workspace, in a child process."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src"),
           "KEFU_SECRET_KEY": "bench", "KEFU_LOGIN_MAX_FAILURES": "10000"}
    return subprocess.Popen(
        [sys.executable, "-m", "kefu.cli", "serve", "--demo", "--workspace",
         str(folder / "workspace"), "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def sign_in(client: Any, username: str) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = await client.post("/login", data={"username": username,
                                               "password": f"{username}-kefu-demo",
                                               "csrf_token": token.group(1)})
    assert answer.status_code == 303, f"{username} could not sign in"


async def plan(client: Any, role: str, run: int) -> list[tuple[str, str]]:
    """The (kind, path) a client of ``role`` requests, found from the pages themselves."""
    run_page = (await client.get(f"/runs/{run}")).text
    if role == "director":
        return [("director", f"/runs/{run}/director")]
    if role == "qa":
        return [("qa", f"/runs/{run}/qa")]
    if role == "lead":
        team = re.search(rf'href="(/runs/{run}/teams/[^"]+)"', run_page)
        assert team is not None
        return [("team", team.group(1))]
    own = re.search(rf'href="(/runs/{run}/agents/[^"/]+)"', run_page)
    assert own is not None
    evidence = f"{own.group(1)}/evidence/avg_response_s"
    rows = (await client.get(evidence)).text
    chat = re.search(r'href="([^"]+/chats/[^"]+)"', rows)
    assert chat is not None
    return [("agent", own.group(1)), ("evidence", evidence),
            ("chat", chat.group(1).replace("&amp;", "&"))]


async def one_client(base: str, role: str, run: int, requests: int,
                     times: dict[str, list[float]], ready: asyncio.Barrier) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await sign_in(client, role)
        paths = await plan(client, role, run)
        await ready.wait()  # every client signed in: the timed part starts together
        for _ in range(requests):
            for kind, path in paths:
                started = time.perf_counter()
                answer = await client.get(path)
                times.setdefault(kind, []).append(time.perf_counter() - started)
                assert answer.status_code == 200, (path, answer.status_code)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(times: dict[str, list[float]], clients: int) -> None:
    print(f"\n{'page':<12}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    groups = {"dashboards": DASHBOARDS, "drill-down": DRILL_DOWN}
    rows = [(k, v) for k, v in sorted(times.items())]
    rows += [(g, [t for k in kinds for t in times.get(k, [])]) for g, kinds in groups.items()]
    for kind, values in rows:
        if values:
            print(f"{kind:<12}{len(values):>10}{statistics.median(values) * 1000:>10.1f}"
                  f"{percentile(values, 0.95) * 1000:>10.1f}{max(values) * 1000:>10.1f}")
    goals = {"dashboards": 0.150, "drill-down": 0.400}
    for group, goal in goals.items():
        values = [t for k in groups[group] for t in times.get(k, [])]
        if values:
            p95 = percentile(values, 0.95)
            verdict = "meets" if p95 < goal else "MISSES"
            print(f"{group}: p95 {p95 * 1000:.0f} ms at {clients} clients — {verdict} the "
                  f"{goal * 1000:.0f} ms goal")


async def load(base: str, clients: int, requests: int) -> dict[str, list[float]]:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=120) as probe:
        await sign_in(probe, "director")
        found = re.search(r'href="/runs/(\d+)"', (await probe.get("/")).text)
        assert found is not None
        run = int(found.group(1))
    roles = ["agent", "director", "lead", "qa"]
    times: dict[str, list[float]] = {}
    ready = asyncio.Barrier(clients)
    await asyncio.gather(*(one_client(base, roles[i % len(roles)], run, requests, times,
                                      ready) for i in range(clients)))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=10, help="rounds per client")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    folder = HERE / "data" / f"app-{args.messages}"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "done").exists():
        setup(folder, args.messages)
        (folder / "done").write_text("set up\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = serve(folder, port, args.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(port)
        started = time.perf_counter()
        times = asyncio.run(load(base, args.clients, args.requests))
        print(f"{args.messages:,} messages, {args.clients} clients, {args.workers} "
              f"worker(s), {sum(len(v) for v in times.values())} timed requests "
              f"({time.perf_counter() - started:.1f} s with sign-ins); load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        report(times, args.clients)
    finally:
        server.terminate()  # uvicorn stops its workers on SIGTERM
        server.wait(timeout=30)


def _wait_for(port: int, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    main()
