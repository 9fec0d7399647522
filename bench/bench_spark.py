"""Benchmark: seconds per million messages and driver peak memory, DuckDB beside Spark.

For each size (default 1M, 10M, 30M messages of the demo shop, as Parquet, cached
under bench/data/) runs ``kefu metrics --no-qa`` in its own process:

1. ``--engine duckdb`` (embedded),
2. ``--engine spark --spark-master local[2]`` (local Spark: kefu reads and validates
   the files itself and hands them to Spark, the parity path),
3. ``--engine spark`` on a loopback standalone cluster (two workers, 1 core each)
   with ``--spark-driver-memory 512m``: the cluster reads the files (spark_reader),

and prints wall seconds and CPU seconds (user + system of every process the bench
started: kefu, the driver JVM, and on the cluster the master, workers and executors),
each also per million messages, and the driver's peak RSS: the kefu process plus its
children (the driver JVM), with the Python and JVM parts apart, sampled every 0.2 s
from /proc. On the cluster the executors run in the workers, outside the driver.
The results must be equal.

    python bench/bench_spark.py --messages 1000000 10000000
    python bench/bench_spark.py --data-root /work/main/bench/data --skip local
    python bench/bench_spark.py --messages 1000000 --skip local duckdb \\
        --src after=src before=/tmp/old/src      # before/after, alternating
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_metrics import ensure_data  # noqa: E402
from loopback_cluster import loopback_cluster  # noqa: E402

START, END = "2024-06-01", "2024-06-30"


TICKS = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> dict[int, tuple[str, float, float]]:
    """{pid: (command name, RSS MB, user+system CPU seconds)} of a process and all its
    descendants, from /proc."""
    found: dict[int, tuple[str, float, float]] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{current}/comm") as comm:
                name = comm.read().strip()
            # stat fields after the name: utime is the 12th, stime the 13th, rss the 22nd
            cpu = (int(fields[11]) + int(fields[12])) / TICKS
            rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            found[current] = (name, rss, cpu)
            todo += _children(current)
        except (OSError, ValueError, IndexError):
            continue
    return found


def _children(pid: int) -> list[int]:
    """Children started by any thread (a Spark worker starts its executors from a thread
    other than the main one, so /proc/PID/task/PID/children alone misses them)."""
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(c) for c in children.read().split()]
        except OSError:
            continue
    return found


@dataclass
class Usage:
    """One run: wall seconds, the driver's peak RSS (kefu's Python process, the driver
    JVM, and both together), CPU seconds of the driver side and of everything the bench
    started (the loopback cluster's master, workers and executors included)."""

    seconds: float = 0.0
    python_mb: float = 0.0
    jvm_mb: float = 0.0
    driver_mb: float = 0.0
    driver_cpu: float = 0.0
    all_cpu: float = 0.0
    ok: bool = False


def run(cmd: list[str], out: Path, src: str = "") -> Usage:
    """Runs ``cmd`` and samples /proc every 0.2 s (peaks and CPU of processes that exit
    between two samples are missed by at most 0.2 s of their life)."""
    usage = Usage()
    before = {pid: cpu for pid, (_, _, cpu) in descendants(os.getpid()).items()}
    cpu_seen: dict[int, float] = {}
    driver_pids: set[int] = set()
    began = time.perf_counter()
    with out.open("wb") as stdout:
        env = {**os.environ, "PYTHONPATH": src} if src else None
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL, env=env)

    def sample() -> None:
        while proc.poll() is None:
            driver = descendants(proc.pid)
            driver_pids.update(driver)
            usage.python_mb = max(usage.python_mb, sum(
                rss for name, rss, _ in driver.values() if name.startswith("python")))
            usage.jvm_mb = max(usage.jvm_mb, sum(
                rss for name, rss, _ in driver.values() if not name.startswith("python")))
            usage.driver_mb = max(usage.driver_mb, sum(rss for _, rss, _ in driver.values()))
            for pid, (_, _, cpu) in descendants(os.getpid()).items():
                cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), cpu)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    sampler.join()
    usage.seconds = time.perf_counter() - began
    usage.ok = proc.returncode == 0
    for pid, (_, _, cpu) in descendants(os.getpid()).items():  # the cluster, still running
        cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), cpu)
    usage.driver_cpu = sum(cpu_seen.get(pid, 0.0) for pid in driver_pids)
    usage.all_cpu = sum(cpu - before.get(pid, 0.0) for pid, cpu in cpu_seen.items())
    return usage


def metrics_cmd(data: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "kefu.cli", "metrics", "--data", str(data), "--start",
            START, "--end", END, "--no-qa", "--format", "json", *flags]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, nargs="+",
                        default=[1_000_000, 10_000_000, 30_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-root", type=Path, default=BENCH / "data")
    parser.add_argument("--skip", nargs="*", default=[], choices=["duckdb", "local", "cluster"])
    parser.add_argument("--src", nargs="*", default=[], metavar="LABEL=DIR",
                        help="run each engine with kefu from these src folders in turn "
                             "(before/after comparisons in one period); default: this one")
    args = parser.parse_args()
    sources = dict(item.split("=", 1) for item in args.src) or {"": ""}
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-spark-"))
    failed = False
    cluster = (nullcontext("") if "cluster" in args.skip
               else loopback_cluster(work / "cluster", workers=2, memory="2g"))
    print(f"{'messages':>11} {'run':14} {'wall s':>8} {'s/M':>7} {'CPU s':>8} {'CPU s/M':>8} "
          f"{'driver MB':>9} {'python':>7} {'JVM':>7}", flush=True)
    with cluster as url:
        runs = {
            "duckdb": [],
            "local": ["--engine", "spark", "--spark-master", "local[2]"],
            "cluster": ["--engine", "spark", "--spark-master", url,
                        "--spark-driver-memory", "512m", "--spark-executor-memory", "1500m"],
        }
        for n in args.messages:
            data = ensure_data(n, args.seed, args.data_root)
            results = {}
            for name, flags in runs.items():
                if name in args.skip:
                    continue
                for label, src in sources.items():
                    key = f"{name}{'-' + label if label else ''}"
                    out = work / f"{n}-{key}.json"
                    u = run(metrics_cmd(data, *flags), out, src)
                    failed |= not u.ok
                    millions = n / 1e6
                    print(f"{n:>11,} {key:14} {u.seconds:8.1f} {u.seconds / millions:7.1f} "
                          f"{u.all_cpu:8.1f} {u.all_cpu / millions:8.1f} {u.driver_mb:9,.0f} "
                          f"{u.python_mb:7,.0f} {u.jvm_mb:7,.0f} {'ok' if u.ok else 'FAILED'}",
                          flush=True)
                    if u.ok:
                        results[key] = json.loads(out.read_text())
            report_equality(n, results)
    return 1 if failed else 0


def report_equality(n: int, results: dict[str, dict[str, Any]]) -> None:
    agents = {k: v["agents"] for k, v in results.items()}
    first: dict[str, Any] = next(iter(agents.values()), {})
    differ = sorted({f"{name}:{metric}" for name, a in agents.items()
                     for agent, values in a.items() for metric, value in values.items()
                     if first.get(agent, {}).get(metric) != value})
    print(f"{n:>11,} results equal across engines: {not differ}"
          + (f" (differ: {', '.join(differ[:10])})" if differ else ""), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
