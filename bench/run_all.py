"""`make bench`: every benchmark in turn, then the header of bench/RESULTS.md (date, machine, load).

Each benchmark rewrites its own section of RESULTS.md (bench/results_file.py) with medians and spreads over its
repetitions; this runner only orders them and records where and when they ran. A benchmark that fails stops the
run with its exit code, leaving the sections of the ones before it updated.

    .venv/bin/python -m bench.run_all                 # everything (about 30 minutes, 1M tickets generated once)
    .venv/bin/python -m bench.run_all kb_quality      # some of them
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.results_file import write_section

ROOT = Path(__file__).resolve().parent.parent
# Cheap and deterministic first; the framework limit last, as it also measures Mesa's pages for the ratios.
BENCHMARKS = ("kb_quality", "kb_search", "markdown_render", "agent_queue", "reports", "rules", "framework_limit")
# The sizes the issues set targets for (each benchmark's own defaults are smaller, for quick runs).
ARGUMENTS = {"reports": ["--tickets", "1000000", "--instance", "/tmp/mesa-bench-reports-1000000"]}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_section(runs: dict[str, str]) -> str:
    """The machine, and when each benchmark last ran (runs: name -> "date · minutes · load at its end")."""
    rows = [f"| `{name}` | {runs[name]} |" for name in BENCHMARKS if name in runs]
    return "\n".join([
        "## Where and when", "",
        f"{os.cpu_count()} cores, {cpu_model()}; {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}. Sections below were written by the last run of each benchmark:", "",
        "| benchmark | last run (UTC) · minutes · load average at its end (1, 5, 15 min) |", "|---|---|", *rows,
    ])


def earlier_runs() -> dict[str, str]:
    from bench.results_file import RESULTS

    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    return dict(re.findall(r"^\| `(\w+)` \| (.+?) \|$", text, re.M))


def main(argv: list[str]) -> int:
    chosen = [name for name in BENCHMARKS if not argv or name in argv]
    unknown = sorted(set(argv) - set(BENCHMARKS))
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    runs = earlier_runs()
    for name in chosen:
        if not (ROOT / "bench" / f"{name}.py").exists():
            print(f"== {name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        started, clock = datetime.now(UTC), time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"bench.{name}", *ARGUMENTS.get(name, [])], cwd=ROOT)
        if result.returncode:
            print(f"== {name} failed with exit code {result.returncode}", file=sys.stderr)
            return result.returncode
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        runs[name] = f"{started:%Y-%m-%d %H:%M} · {(time.monotonic() - clock) / 60:.1f} · {load}"
        write_section("machine", machine_section(runs))
        _move_machine_section_first()
    return 0


def _move_machine_section_first() -> None:
    from bench.results_file import RESULTS

    text = RESULTS.read_text(encoding="utf-8")
    start, end = "<!-- machine:start -->", "<!-- machine:end -->"
    block = text[text.index(start):text.index(end) + len(end)]
    rest = text.replace(block, "").strip()
    title, _, body = rest.partition("\n")
    RESULTS.write_text(f"{title}\n\n{block}\n\n{body.strip()}\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
