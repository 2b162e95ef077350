"""Rendering hostile Markdown: Mesa's renderer against the parser it replaced, on the same inputs, in one run.

For each hostile family of `tests/security/test_markdown_limits.py` (the inputs that made Python-Markdown
quadratic or recursive, and those that make a sanitiser slow), the median time of `render_markdown` at 16 KB and
64 KB (issue 16 aims at <= 50 ms for 64 KB), and, as the baseline, Python-Markdown 3 with the extensions Mesa used
before (tables, fenced_code, toc, admonition, sane_lists) followed by nh3 at 16 KB. A baseline run that takes
longer than the cap is stopped in its own process and reported as "> cap".

    .venv/bin/python -m bench.markdown_render [--runs 5] [--cap 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench.results_file import write_section

SMALL, LARGE = 16 * 1024, 64 * 1024
TARGET_MS = 50.0


def _median_ms(render: Callable[[str], object], text: str, runs: int) -> float:
    times = []
    for run in range(runs):
        varied = f"{text}\n\n{run}"  # a new text each run, so no cache answers
        started = time.perf_counter()
        render(varied)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _python_markdown(text: str) -> str:
    import markdown
    import nh3

    html = markdown.markdown(text, extensions=["tables", "fenced_code", "toc", "admonition", "sane_lists"])
    return nh3.clean(html)


def _baseline_worker(text: str, runs: int, answer) -> None:
    sys.setrecursionlimit(1000)
    try:
        answer.put(_median_ms(_python_markdown, text, runs))
    except RecursionError:
        answer.put("RecursionError")


def baseline_ms(text: str, runs: int, cap: float) -> str:
    """The old parser's median, in a process of its own so a quadratic input can be stopped at the cap."""
    context = multiprocessing.get_context("fork")
    answer = context.Queue()
    worker = context.Process(target=_baseline_worker, args=(text, runs, answer))
    worker.start()
    worker.join(cap)
    if worker.is_alive():
        worker.kill()
        worker.join()
        return f"> {cap * 1000:.0f}"
    result = answer.get()
    return result if isinstance(result, str) else f"{result:.1f}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cap", type=float, default=5.0, help="seconds a baseline measurement may take")
    args = parser.parse_args(argv)

    from portal.markdown_render import render_markdown
    from tests.security.test_markdown_limits import FAMILIES

    load_before = os.getloadavg()
    rows, over = [], []
    for name, make in FAMILIES.items():
        small, large = make(SMALL), make(LARGE)
        mesa_small = _median_ms(render_markdown, small, args.runs)
        mesa_large = _median_ms(render_markdown, large, args.runs)
        old_small = baseline_ms(small, args.runs, args.cap)
        mark = "✓" if mesa_large <= TARGET_MS else "✗"
        if mesa_large > TARGET_MS:
            over.append(name)
        rows.append(f"| {name} | {old_small} | {mesa_small:.1f} | {mesa_large:.1f} {mark} |")
        print(rows[-1], flush=True)
    load_after = os.getloadavg()

    section = "\n".join([
        "## Hostile Markdown (`bench/markdown_render.py`)", "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; medians of {args.runs} runs in ms; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f} before and "
        f"{load_after[0]:.2f}, {load_after[1]:.2f}, {load_after[2]:.2f} after. Baseline: Python-Markdown 3 with "
        "the extensions Mesa used before, then nh3, stopped at the cap. Target (issue 16): ≤ 50 ms for 64 KB.", "",
        "| family | baseline 16 KB | Mesa 16 KB | Mesa 64 KB |", "|---|---:|---:|---:|", *rows, "",
        f"{len(FAMILIES) - len(over)} of {len(FAMILIES)} families within 50 ms at 64 KB"
        + (f"; over it: {', '.join(over)}." if over else "."),
    ])
    write_section("markdown_render", section)
    print(section.splitlines()[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
