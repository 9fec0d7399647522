"""Benchmark: seconds per million messages and driver peak memory, DuckDB beside Spark.

For each size (default 1M, 10M, 30M messages of the demo shop, as Parquet, cached
under bench/data/) runs ``kefu metrics --no-qa`` in its own process:

1. ``--engine duckdb`` (embedded),
2. ``--engine spark --spark-master local[2]`` (the cluster path in local mode),
3. ``--engine spark`` on a loopback standalone cluster (two workers, 1 core each)
   with ``--spark-driver-memory 512m``,

and prints wall seconds, seconds per million messages, and the driver's peak RSS:
the kefu process plus its children (the driver JVM), sampled every 0.2 s from
/proc. On the cluster the executors run in the workers, outside the driver.
The three results must be equal.

    python bench/bench_spark.py --messages 1000000 10000000
    python bench/bench_spark.py --data-root /work/main/bench/data --skip local
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_metrics import ensure_data  # noqa: E402
from loopback_cluster import loopback_cluster  # noqa: E402

START, END = "2024-06-01", "2024-06-30"


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, from /proc (MB)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as children:
                todo += [int(c) for c in children.read().split()]
        except (OSError, ValueError):
            continue
    return total / 1024


def run(cmd: list[str], out: Path) -> tuple[float, float, bool]:
    """(seconds, peak MB of the process tree, exit ok)."""
    began = time.perf_counter()
    with out.open("wb") as stdout:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    sampler.join()
    return time.perf_counter() - began, peak[0], proc.returncode == 0


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
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-spark-"))
    rows: list[tuple[int, str, float, float, bool]] = []
    with loopback_cluster(work / "cluster", workers=2, memory="2g") as url:
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
                out = work / f"{n}-{name}.json"
                seconds, peak, ok = run(metrics_cmd(data, *flags), out)
                rows.append((n, name, seconds, peak, ok))
                print(f"{n:>11,} {name:8} {seconds:8.1f} s {seconds / (n / 1e6):7.1f} s/M "
                      f"peak {peak:7,.0f} MB {'ok' if ok else 'FAILED'}", flush=True)
                if ok:
                    results[name] = json.loads(out.read_text())
            agents = {k: v["agents"] for k, v in results.items()}
            first = next(iter(agents.values()), {})
            differ = sorted({f"{name}:{metric}" for name, a in agents.items()
                             for agent, values in a.items() for metric, value in values.items()
                             if first.get(agent, {}).get(metric) != value})
            print(f"{n:>11,} results equal across engines: {not differ}"
                  + (f" (differ: {', '.join(differ[:10])})" if differ else ""), flush=True)
    return 0 if all(r[4] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
