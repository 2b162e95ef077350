"""The HTTP side shared by the benchmarks: gunicorn on 127.0.0.1 and a bounded closed-loop load of concurrent
clients (one keep-alive connection each, one request at a time, an optional typist's pause), so figures from
different benchmarks are measured the same way and can be divided by each other."""

from __future__ import annotations

import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from portal import heap

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
# How the benchmarks serve Mesa, as `make run` does: one worker process per core, one thread each.
# Mesa's pages are CPU work in Python, and threads of one process take turns on its GIL: at 1M tickets, 16
# clients pausing 250 ms, two interleaved runs each, queue page 1 p95 was 263 and 117 ms with 2 workers x 2
# threads, 78 and 67 ms with 4 x 1 (p50 65 and 33 ms against 23 and 21 ms).
# With one thread, gunicorn's sync worker, not gthread: a gthread worker goes on accepting connections while its
# one thread is busy and keeps each keep-alive connection, so some clients queue behind a busy worker while
# another is idle. A sync worker takes a connection only when it is free and closes it after the response. At
# 1M tickets, 16 clients without pause: queue page 1 p95 404 -> 120 ms, workspace 404 -> 132 ms, 106 -> 161 req/s.
# (With THREADS above 1 gunicorn itself runs gthread.)
# One worker per core rather than two: more processes than cores only take turns on them. On 2 cores at 100k
# tickets, 16 clients without pause, 6 s runs interleaved 4, 2, 4, 2 workers: workspace p95 88, 77, 99, 78 ms
# (210, 227, 191, 227 req/s), queue page 1 63, 55, 64, 56 ms, status change 278, 225, 292, 229 ms; with a
# 250 ms pause 2 workers were as quick or quicker on each of the three.
WORKERS, THREADS = len(os.sched_getaffinity(0)), 1  # the cores this process may use, as `nproc` counts them

# (the client's rng, its number, how many it sent before) -> (path, headers) of a GET, or
# (method, path, form body or None, headers)
NextRequest = Callable[[random.Random, int, int], tuple]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(app_spec: str, port: int, env: dict[str, str], *, workers: int = WORKERS,
                   threads: int = THREADS) -> subprocess.Popen:
    """`app_spec` (e.g. `app:app`) served from the repository root; returns once the port accepts connections."""
    command = [str(GUNICORN), "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), "--log-level", "warning", app_spec]
    process = subprocess.Popen(command, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], **kwargs: int) -> Iterator[int]:
    """The port of a running gunicorn, stopped (SIGTERM) on exit."""
    port = free_port()
    server = start_gunicorn(app_spec, port, env, **kwargs)
    try:
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def http_load(port: int, next_request: NextRequest, *, clients: int, seconds: float, think_ms: float,
              warmup: float, ok_statuses: tuple[int, ...] = (200,)) -> dict[str, float]:
    """`clients` threads send requests for `warmup + seconds`; only the last `seconds` count. Latencies in ms."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + warmup + seconds
    measure_from = time.monotonic() + warmup

    def client(number: int) -> None:
        rng = random.Random(number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        step = 0
        while time.monotonic() < stop_at:
            planned = next_request(rng, number, step)
            step += 1
            method, path, body, headers = ("GET", planned[0], None, planned[1]) if len(planned) == 2 else planned
            if body is not None:
                headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
            start = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status in ok_statuses
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = (time.perf_counter() - start) * 1000
            if time.monotonic() >= measure_from:
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1
            if think_ms:
                time.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)
        connection.close()

    # The clients share this process with whatever the benchmark loaded (often the whole app, to look up test
    # data): a full garbage collection of that heap would stop every client at once and count as server time.
    heap.settle()
    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not latencies:
        return {"requests": 0, "errors": errors[0], "req/s": 0.0, "p50": float("nan"), "p95": float("nan"),
                "p99": float("nan")}
    return {"requests": len(latencies), "errors": errors[0], "req/s": len(latencies) / seconds,
            "p50": statistics.median(latencies), "p95": percentile(latencies, 0.95),
            "p99": percentile(latencies, 0.99)}
