"""`make run`'s supervisor: the web server and the background worker as two child processes, stopped together.

    python -m portal.worker.together 'web=gunicorn … app:app' 'worker=flask --app app worker'

Ctrl-C (SIGINT) or SIGTERM stops both: each child gets SIGTERM (gunicorn and the worker finish what is under
way), and whichever has not exited after `grace` seconds is killed. If one child exits on its own, the other is
stopped too and its exit status is ours (1 if it was 0: nobody asked it to stop): a portal whose worker died
silently would look fine and do nothing. A Procfile runner (honcho) would do the same; this is the part of it we
need.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import threading
import time


def supervise(commands: dict[str, list[str]], *, grace: float = 10.0, stop: threading.Event | None = None,
              say=print) -> int:
    """Start every command, wait for a signal (or `stop`) or for one of them to exit, then stop them all."""
    stop = stop or threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    children = {name: subprocess.Popen(argv) for name, argv in commands.items()}  # noqa: S603 (our own commands)
    status = 0
    while not stop.wait(0.2):
        exited = next(((name, child) for name, child in children.items() if child.poll() is not None), None)
        if exited is not None:
            name, child = exited
            say(f"{name} exited with status {child.returncode}; stopping the others.")
            status = child.returncode or 1
            break
    _stop_all(children, grace)
    return status


def _stop_all(children: dict[str, subprocess.Popen], grace: float) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children.values():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def parse(arguments: list[str]) -> dict[str, list[str]]:
    commands = {}
    for argument in arguments:
        name, sep, command = argument.partition("=")
        if not sep or not name or not command.strip():
            raise SystemExit(f"usage: python -m portal.worker.together NAME='COMMAND' ...; got {argument!r}")
        commands[name] = shlex.split(command)
    return commands


if __name__ == "__main__":
    sys.exit(supervise(parse(sys.argv[1:])))
