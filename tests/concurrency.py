"""Running the same job in several sessions at once, as two hosts or two cron runs would."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(app, job: Callable, *, times: int = 2) -> list:
    """What `job(session)` returned in each of `times` threads started together, each with its own session."""
    start = threading.Barrier(times)
    results: list = []

    def worker():
        session = app.extensions["sessionmaker"]()
        try:
            start.wait()
            results.append(job(session))
        finally:
            session.close()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
