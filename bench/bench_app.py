"""Dashboards and drill-down under load: N concurrent clients over loopback.

    .venv/bin/python bench/bench_app.py                        # 10,000,000 messages, 50 clients
    .venv/bin/python bench/bench_app.py --messages 200000      # a quick look
    .venv/bin/python bench/bench_app.py --clients 50 --requests 20
    .venv/bin/python bench/bench_app.py --messages 200000 --workers 2   # kefu serve --workers 2

Sets up the demo (kefu serve --demo: the demo shop of --messages messages over
January–June, a user of every role, June's run computed and published) in
bench/data/app-N/ (kept: a second call reuses it), serves it with
`kefu serve --demo --workers N` in a child process on 127.0.0.1 and signs --clients
clients in (each as one of the roles, in turn). Each client has pages of its own where
its role allows: a director a KPI of their own, a QA inspector a page or filter of the
hit list, an agent (two agent users) a metric's evidence and a chat of their own; a
lead has one team. Finding those pages fills the server's caches, so the server is then
restarted and the pages its workers share on disk are removed: every cache is empty
when timing starts (the sign-ins are kept).

1. **Cold**: every distinct page once, one request at a time, on the fresh server: the
   first view of each page, nothing kept yet (only what an earlier page of the same
   agent left in the drill-down session, as for a real reader, and what every worker
   reads at start, kefu.app.main.warm: its time is printed as "ready after").
2. **Under load**: all clients at once, --requests rounds each, back to back, no pause.
   Every request counts; the steady state (after each client's first round) is printed
   too. The server marks each response as a kept page (hit: kept by the worker that
   answers; shared: read from the folder the workers share, rendered by another) or
   not (miss: rendered for this request); misses under load are shown apart as well,
   and p95 by round.

Prints p50/p95/max of each page kind and of the two groups the issue sets goals for:
dashboards (p95 < 150 ms) and drill-down (p95 < 400 ms), the server's CPU time per
request, the CPU the clients themselves used (they share the machine) and the load
average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KEPT = ("hit", "shared")
"""Values of X-Kefu-Page-Cache for a page served without rendering it."""
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


EVIDENCE = ("avg_response_s", "first_response_s", "reply_rate", "response_on_time_rate",
            "conversations", "unanswered_turns")
"""Metrics whose evidence the agent clients open (one each, in turn)."""


async def _ok(client: Any, path: str) -> str:
    answer = await client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return str(answer.text)


async def plan(client: Any, role: str, run: int, nth: int) -> list[tuple[str, str]]:
    """The (kind, path) the ``nth`` client of ``role`` requests, found from the pages."""
    run_page = await _ok(client, f"/runs/{run}")
    if role == "director":
        board = await _ok(client, f"/runs/{run}/director")
        kpis = re.findall(r'<option value="([^"]+)"', board.split('name="kpi"', 1)[1])
        return [("director", f"/runs/{run}/director?kpi={kpis[nth % len(kpis)]}")]
    if role == "qa":
        board = await _ok(client, f"/runs/{run}/qa")
        found = re.search(r" / (\d+) ", board)
        pages = int(found.group(1)) if found else 1
        return [("qa", f"/runs/{run}/qa" + ("" if nth == 0 else f"?page={1 + nth % pages}"
                                            if nth % 2 else f"?check=forbidden&page={nth}"))]
    if role == "lead":
        team = re.search(rf'href="(/runs/{run}/teams/[^"]+)"', run_page)
        assert team is not None
        return [("team", team.group(1))]
    own = re.search(rf'href="(/runs/{run}/agents/[^"/]+)"', run_page)
    assert own is not None
    evidence = f"{own.group(1)}/evidence/{EVIDENCE[nth % len(EVIDENCE)]}"
    await _ok(client, evidence)
    rows = await _ok(client, f"{own.group(1)}/evidence/avg_response_s")
    chats = re.findall(r'href="([^"]+/chats/[^"]+)"', rows)
    chat = chats[(nth * 7) % len(chats)].replace("&amp;", "&")
    return [("agent", own.group(1)), ("evidence", evidence), ("chat", chat)]


class Lean:
    """A keep-alive HTTP/1.1 GET client on asyncio streams: the clients share the two
    cores with the server, and httpx spends about 3 ms of CPU per request, more than a
    kept page costs the server; this one about 0.1 ms."""

    def __init__(self, port: int, cookies: Any) -> None:
        self.port = port
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str]]:
        """(status, headers) of GET path; the body is read and dropped."""
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Cookie: {self.cookie}\r\n\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in head[1:] if line)}
        assert "chunked" not in headers.get("transfer-encoding", ""), path
        await reader.readexactly(int(headers.get("content-length", "0")))
        return int(head[0].split()[1]), headers

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            await self.streams[1].wait_closed()


ROLES = ("agent", "director", "lead", "qa")
AGENT_USERS = ("agent", "agent2")


@dataclass
class Reader:
    username: str
    role: str
    cookies: Any = None
    paths: list[tuple[str, str]] = field(default_factory=list)


async def prepare(base: str, clients: int) -> tuple[int, list[Reader]]:
    """Sign every client in and find its pages (this fills the server's caches)."""
    import httpx

    readers = []
    for i in range(clients):
        role = ROLES[i % len(ROLES)]
        user = AGENT_USERS[(i // len(ROLES)) % 2] if role == "agent" else role
        readers.append(Reader(user, role))
    async with httpx.AsyncClient(base_url=base, timeout=600) as probe:
        await sign_in(probe, "director")
        found = re.search(r'href="/runs/(\d+)"', (await probe.get("/")).text)
        assert found is not None
        run = int(found.group(1))
    for i, reader in enumerate(readers):
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            await sign_in(client, reader.username)
            reader.paths = await plan(client, reader.role, run, i // len(ROLES))
            reader.cookies = client.cookies
    return run, readers


async def cold(port: int, readers: list[Reader]) -> dict[str, list[float]]:
    """The first request of every distinct page, one at a time."""
    times: dict[str, list[float]] = {}
    seen: set[tuple[str, str]] = set()
    for reader in readers:
        client = Lean(port, reader.cookies)
        for kind, path in reader.paths:
            if (reader.username, path) in seen:
                continue
            seen.add((reader.username, path))
            started = time.perf_counter()
            status, _ = await client.get(path)
            times.setdefault(kind, []).append(time.perf_counter() - started)
            assert status == 200, (path, status)
        await client.close()
    return times


@dataclass(frozen=True)
class Sample:
    kind: str
    round: int
    seconds: float
    kept: bool
    """The worker answered with a page it had kept (X-Kefu-Page-Cache: hit)."""


async def one_client(port: int, reader: Reader, requests: int, samples: list[Sample],
                     ready: asyncio.Barrier) -> None:
    client = Lean(port, reader.cookies)
    await client.get("/static/favicon.svg")  # the connection, before timing
    await ready.wait()  # every client connected: the timed part starts together
    for round_no in range(requests):
        for kind, path in reader.paths:
            started = time.perf_counter()
            status, headers = await client.get(path)
            took = time.perf_counter() - started
            assert status == 200, (path, status)
            samples.append(Sample(kind, round_no, took,
                                  headers.get("x-kefu-page-cache") in KEPT))
    await client.close()


async def load(port: int, readers: list[Reader], requests: int) -> list[Sample]:
    samples: list[Sample] = []
    ready = asyncio.Barrier(len(readers))
    await asyncio.gather(*(one_client(port, r, requests, samples, ready) for r in readers))
    return samples


def by_kind(samples: list[Sample]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for sample in samples:
        out.setdefault(sample.kind, []).append(sample.seconds)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


GROUPS = {"dashboards": DASHBOARDS, "drill-down": DRILL_DOWN}
GOALS = {"dashboards": 0.150, "drill-down": 0.400}


def report(title: str, times: dict[str, list[float]], goals: bool = False) -> None:
    print(f"\n{title}\n{'page':<12}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    rows = [(k, v) for k, v in sorted(times.items())]
    rows += [(g, [t for k in kinds for t in times.get(k, [])]) for g, kinds in GROUPS.items()]
    for kind, values in rows:
        if values:
            print(f"{kind:<12}{len(values):>10}{statistics.median(values) * 1000:>10.1f}"
                  f"{percentile(values, 0.95) * 1000:>10.1f}{max(values) * 1000:>10.1f}")
    for group, goal in GOALS.items():
        values = [t for k in GROUPS[group] for t in times.get(k, [])]
        if goals and values:
            p95 = percentile(values, 0.95)
            verdict = "meets" if p95 < goal else "MISSES"
            print(f"{group}: p95 {p95 * 1000:.0f} ms — {verdict} the {goal * 1000:.0f} ms goal")


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
    base = f"http://127.0.0.1:{port}"
    with running(folder, port, args.workers):
        run, readers = asyncio.run(prepare(base, args.clients))
    distinct = len({(r.username, p) for r in readers for _, p in r.paths})
    shutil.rmtree(folder / "workspace-app-pages", ignore_errors=True)  # see kefu.app.main
    with running(folder, port, args.workers) as server:  # a fresh server: nothing kept
        print(f"{args.messages:,} messages, {args.clients} clients, {args.workers} "
              f"worker(s), run {run}, {distinct} distinct pages; load average "
              f"{_load_average()} before")
        started, used = time.perf_counter(), _cpu_seconds(server.pid)
        first = asyncio.run(cold(port, readers))
        print(f"cold: {sum(map(len, first.values()))} first views in "
              f"{time.perf_counter() - started:.1f} s, one at a time, server CPU "
              f"{_cpu_seconds(server.pid) - used:.1f} s; load average {_load_average()}")
        cpu, started, used = time.process_time(), time.perf_counter(), _cpu_seconds(server.pid)
        samples = asyncio.run(load(port, readers, args.requests))
        wall, count = time.perf_counter() - started, len(samples)
        server_cpu = _cpu_seconds(server.pid) - used
        print(f"under load: {count} requests in {wall:.1f} s, "
              f"{sum(1 for s in samples if not s.kept)} rendered (not kept yet by any "
              f"worker); server CPU {server_cpu:.1f} s ({server_cpu / count * 1000:.1f} ms "
              f"a request), clients' CPU {time.process_time() - cpu:.1f} s; load average "
              f"{_load_average()}")
    report("cold: first view of each distinct page, one at a time", first)
    report(f"under load ({args.clients} clients), every request", by_kind(samples), True)
    report("under load, after each client's first round (steady state)",
           by_kind([s for s in samples if s.round > 0]), True)
    report("under load, pages rendered for the request (misses)",
           by_kind([s for s in samples if not s.kept]))
    rounds(samples, args.requests)


def rounds(samples: list[Sample], count: int) -> None:
    """p95 of each group in each round: where the slow requests are."""
    print("\np95 ms by round (dashboards / drill-down)")
    cells = []
    for round_no in range(count):
        cell = []
        for kinds in GROUPS.values():
            values = [s.seconds for s in samples if s.round == round_no and s.kind in kinds]
            cell.append(f"{percentile(values, 0.95) * 1000:.0f}" if values else "-")
        cells.append(f"{round_no + 1}: {' / '.join(cell)}")
    print("  ".join(cells))


@contextmanager
def running(folder: Path, port: int, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    started = time.perf_counter()
    server = serve(folder, port, workers)
    try:
        _wait_for(server, port)
        print(f"server ready and idle after {time.perf_counter() - started:.1f} s "
              f"({workers} worker(s): session, warm-up)")
        yield server
    finally:
        server.terminate()  # uvicorn stops its workers on SIGTERM
        server.wait(timeout=60)


def _wait_for(server: subprocess.Popen[bytes], port: int, seconds: float = 1800) -> None:
    """Until the server answers and its processes are idle: with N workers, each builds
    its drill-down session at start, which must not run beside the timed requests."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        raise SystemExit("the server did not start")
    used = _cpu_seconds(server.pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _cpu_seconds(server.pid)
        if now - used < 0.05:
            return
        used = now
    raise SystemExit("the server did not settle")


def _cpu_seconds(root: int) -> float:
    """CPU seconds used so far by a process and its children (Linux /proc)."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    tree, grown = {root}, True
    while grown:  # children, their children, …
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grown = bool(found)
    return sum(used.get(pid, 0.0) for pid in tree)


if __name__ == "__main__":
    main()
