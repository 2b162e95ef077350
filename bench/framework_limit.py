"""The framework's own limit on this machine: how fast can Flask + gunicorn answer at all?

Two pages with no Mesa code behind them, served exactly as the benchmarks serve Mesa (gunicorn with
the workers and threads of `bench/_http.py`) and loaded with the same closed-loop client (16 clients, no pause,
i.e. saturation):
- `/bare`: a view returning a short string (routing, WSGI, HTTP: the floor of every request);
- `/table`: a Jinja page extending a layout and rendering a 50-row table (a typical list page, no database).
Then a few Mesa pages the same way, each given as a share of `/table`'s throughput. Any other Mesa figure
measured with `bench/_http.py` at 16 clients without pause divides the same way (e.g. kb_search's "think 0 ms").

Each page is measured `--repeats` times; the section gives the median and the spread (min–max).

Usage: python bench/framework_limit.py [--seconds 8] [--repeats 5] [--no-mesa] [--no-write]
       (gunicorn imports the two test pages from this module: `bench.framework_limit:app`)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, render_template

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._http import THREADS, WORKERS, gunicorn, http_load  # noqa: E402
from bench.results_file import write_section  # noqa: E402

CLIENTS, WARMUP, ROWS = 16, 2.0, 50
MESA_WARMUP = 10.0
CORPUS = ROOT.parent / "shared" / "kb-corpus"
SECTION_TITLE = "## Framework limit (`bench/framework_limit.py`)"

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><header><nav><a href="/">Home</a> <a href="/table">Tickets</a></nav></header>
<main>{% block main %}{% endblock %}</main><footer>Framework limit</footer></body></html>"""

TABLE = """{% extends "layout.html" %}{% block title %}{{ rows|length }} tickets{% endblock %}
{% block main %}<table><thead><tr><th>Ref</th><th>Subject</th><th>Status</th><th>Priority</th><th>Updated</th></tr>
</thead><tbody>{% for row in rows %}<tr id="ticket-{{ row.ref }}"><td><a href="/tickets/{{ row.ref }}">{{ row.ref }}</a>
</td><td>{{ row.subject }}</td><td>{{ row.status|capitalize }}</td><td>{{ row.priority }}</td>
<td>{{ row.updated }}</td></tr>{% endfor %}</tbody></table>{% endblock %}"""


def create_limit_app() -> Flask:
    from jinja2 import DictLoader

    app = Flask("framework_limit")
    app.jinja_loader = DictLoader({"layout.html": LAYOUT, "table.html": TABLE})
    rows = [{"ref": f"MSA-{n:04d}-TEST", "subject": f"Printer {n} <does not> print & smokes", "status": "open",
             "priority": ("low", "normal", "high", "urgent")[n % 4], "updated": f"2026-11-{1 + n % 28:02d} 10:00"}
            for n in range(ROWS)]

    @app.get("/bare")
    def bare() -> str:
        return "Hello, world!"

    @app.get("/table")
    def table() -> str:
        return render_template("table.html", rows=rows)

    return app


app = create_limit_app()


def repeated(port: int, path: str, headers: dict[str, str], *, seconds: float, repeats: int) -> list[dict]:
    runs = []
    for _ in range(repeats):
        runs.append(http_load(port, lambda *_: (path, headers), clients=CLIENTS, seconds=seconds, think_ms=0,
                              warmup=WARMUP))
        print(f"  {path}: {runs[-1]['req/s']:.0f} req/s, p50 {runs[-1]['p50']:.1f} ms", flush=True)
    return runs


def mesa_env(instance: Path, kb_dir: Path) -> dict[str, str]:
    import portal.models  # noqa: F401  (registers every table)
    from portal.db import Base, make_engine

    database = instance / "bench.db"
    engine = make_engine(f"sqlite:///{database}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return {"PORTAL_KB_DIR": str(kb_dir), "PORTAL_INSTANCE_PATH": str(instance),
            "PORTAL_DATABASE_URL": f"sqlite:///{database}", "PORTAL_SECRET_KEY": "bench-only-secret",
            "PORTAL_RATELIMIT_STORAGE_URI": "memory://"}


SEARCH_PAGE = "Mesa `/kb/search` fragment (HX-Request)"
MESA_PAGES = {
    "Mesa `/login` (form page, base layout)": ("/login", {}),
    "Mesa `/kb` (help-center home)": ("/kb", {}),
    SEARCH_PAGE: ("/kb/search?" + urlencode({"q": "reset password"}),
                                               {"HX-Request": "true"}),
}


def measure(args) -> dict[str, list[dict]]:
    figures: dict[str, list[dict]] = {}
    with gunicorn("bench.framework_limit:app", {}) as port:
        figures["Flask `/bare` (string)"] = repeated(port, "/bare", {}, seconds=args.seconds, repeats=args.repeats)
        figures["Flask `/table` (Jinja, 50 rows)"] = repeated(port, "/table", {}, seconds=args.seconds,
                                                              repeats=args.repeats)
    if args.no_mesa:
        return figures
    with tempfile.TemporaryDirectory() as scratch:
        kb_dir = Path(scratch) / "kb"
        shutil.copytree(CORPUS if CORPUS.exists() else ROOT / "tests" / "data" / "kb", kb_dir)
        instance = Path(scratch) / "instance"
        instance.mkdir()
        with gunicorn("app:app", mesa_env(instance, kb_dir)) as port:
            # Untimed: each worker builds or opens the index and fills its caches, as a running server has.
            http_load(port, lambda *_: MESA_PAGES[SEARCH_PAGE], clients=CLIENTS, seconds=1, think_ms=0,
                      warmup=MESA_WARMUP)
            for label, (path, headers) in MESA_PAGES.items():
                figures[label] = repeated(port, path, headers, seconds=args.seconds, repeats=args.repeats)
    return figures


def spread(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def report(figures: dict[str, list[dict]], args) -> str:
    limit = statistics.median(run["req/s"] for run in figures["Flask `/table` (Jinja, 50 rows)"])
    load = os.getloadavg()[0]
    lines = [SECTION_TITLE, "",
             f"gunicorn {'sync' if THREADS == 1 else 'gthread'} {WORKERS} workers × {THREADS} threads "
             f"on 127.0.0.1, {CLIENTS} clients without pause "
             f"(saturation), {args.seconds:g} s per run after a {WARMUP:g} s warm-up, {args.repeats} runs per page: "
             "median (min–max). Same server settings and client (`bench/_http.py`) as the HTTP part of "
             f"`bench/kb_search.py`. 2-core machine shared with other work (load average {load:.1f} at the end).",
             "", "| page | req/s | p50 ms | p95 ms | errors | share of `/table` |", "|---|---|---|---|---|---|"]
    for label, runs in figures.items():
        rates = [run["req/s"] for run in runs]
        lines.append(f"| {label} | {spread(rates)} | {spread([r['p50'] for r in runs], 1)} | "
                     f"{spread([r['p95'] for r in runs], 1)} | {sum(r['errors'] for r in runs)} | "
                     f"{statistics.median(rates) / limit:.0%} |")
    lines += ["", "Reading it: a Mesa page at 40 % of `/table` spends about 60 % of its time in Mesa's own work "
              "(database, search, sessions, CSRF, translations); the rest is what Flask and gunicorn cost anyway."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-mesa", action="store_true", help="only the two framework pages")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    text = report(measure(args), args)
    print(text)
    if not args.no_write:
        write_section("framework_limit", text)


if __name__ == "__main__":
    main()
