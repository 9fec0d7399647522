"""A Spark standalone cluster on loopback from the installed PySpark (tests and bench).

    with loopback_cluster(Path("/tmp/c"), workers=2, memory="1g") as url:
        ...  # kefu --engine spark --spark-master url

Starts a master and the workers with bin/spark-class (1 core each, its own work
folder), waits until every worker registered (the master's JSON page), and stops
them all on exit (terminate, then kill after 20 s).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@contextmanager
def loopback_cluster(base: Path, workers: int = 2, memory: str = "1g") -> Iterator[str]:
    """spark://127.0.0.1:PORT of a master with ``workers`` registered workers."""
    home = spark_home()
    base.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_NO_DAEMONIZE": "1", "PYSPARK_PYTHON": sys.executable}
    port, ui = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        with (base / f"{name}.log").open("wb") as log:
            started.append(subprocess.Popen([str(home / "bin" / "spark-class"), *args],
                                            stdout=log, stderr=subprocess.STDOUT, env=env))

    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
              "--port", str(port), "--webui-port", str(ui))
        for n in range(1, workers + 1):
            work = base / f"worker{n}"
            work.mkdir(exist_ok=True)
            start(f"worker{n}", "org.apache.spark.deploy.worker.Worker", url,
                  "--host", "127.0.0.1", "--cores", "1", "--memory", memory,
                  "--work-dir", str(work), "--webui-port", str(free_port()))
        wait_for_workers(ui, workers, base)
        yield url
    finally:
        for process in reversed(started):
            stop(process)


def wait_for_workers(ui: int, count: int, logs: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as reply:
                if json.load(reply).get("aliveworkers", 0) >= count:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the workers did not register in {timeout} s; see {logs}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
