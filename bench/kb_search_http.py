"""Live search over HTTP against the framework's own limit, measured in the same run (issue 17's target: the
live search keeps at least half the requests per second of a plain Flask 50-row table page, p99 ≤ 60 ms).

Two gunicorns with the same settings (`bench/_http.py`: one sync worker per core) run side by side:
- Mesa (`app:app`) over a copy of the shared corpus, its index and vectors built beforehand, serving the
  live-search fragment (`GET /kb/search?q=…` with HX-Request);
- `bench.framework_limit:app`, whose `/table` is a Jinja page extending a layout and rendering 50 rows.
The same 16 closed-loop clients load each page in turn (table, search, new queries, then the other way round, so
drift on the shared machine falls on all three), first pausing like typists (the live search's 250 ms debounce),
then without pause (saturation). Each client asks a different query from the one it asked before, from a mix of
plain words, typos, questions and paraphrases in English and Spanish. Mesa remembers the results of a search (and
a query's vector, and its learned boosts for a minute) until the index changes, and the mix repeats: its figure is
that of popular questions. The "every query new" run asks only queries never asked before in the run (a mix query
with two more words of its language), so none of those memos answers: every request embeds its query, ranks it,
asks the database for its learned boosts and writes the snippets of the entries not shown before with these words.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlencode

from bench._http import gunicorn, http_load
from bench.kb_queries import language_of, live_search_mix
from portal.search.text_query import words_of

CLIENTS = 16
SEARCH_WARMUP = 10.0  # untimed, once: each worker opens the index, loads the model, builds its vectors' matrix
WARMUP = 2.0  # before each measured load
TABLE, SEARCH = "Flask `/table` (Jinja, 50 rows)", "Mesa `/kb/search` fragment (HX-Request)"
NEW_QUERIES = "Mesa `/kb/search` fragment, every query new (no memo answers it)"


def kb_server_env(kb_dir: Path, index_dir: Path, instance: Path) -> dict[str, str]:
    import portal.models  # noqa: F401  (registers every table)
    from portal.db import Base, make_engine

    database = instance / "bench.db"
    engine = make_engine(f"sqlite:///{database}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return {"PORTAL_KB_DIR": str(kb_dir), "PORTAL_KB_INDEX_DIR": str(index_dir),
            "PORTAL_INSTANCE_PATH": str(instance), "PORTAL_DATABASE_URL": f"sqlite:///{database}",
            "PORTAL_SECRET_KEY": "bench-only-secret", "PORTAL_RATELIMIT_STORAGE_URI": "memory://"}


class LiveSearchRequests:
    """`http_load`'s NextRequest: each client draws from the mix, never the query it sent just before."""

    def __init__(self) -> None:
        self.mix = live_search_mix()
        self.last: dict[int, str] = {}

    def __call__(self, rng: random.Random, client: int, _step: int) -> tuple[str, dict[str, str]]:
        query = rng.choice([q for q in self.mix if q != self.last.get(client)])
        self.last[client] = query
        return ("/kb/search?" + urlencode({"q": query}),
                {"HX-Request": "true", "Accept-Language": language_of(query)})


class NewLiveSearchRequests:
    """`http_load`'s NextRequest: a query never sent before in this run, so no memo of Mesa's can answer it: a query
    of the mix with two more words from the mix's other queries in its language ("reset password order
    tienda"). Longer than the mix's queries, so if anything a little slower to search."""

    def __init__(self) -> None:
        self.mix = live_search_mix()
        self.words = {lang: sorted({word for query in self.mix if language_of(query) == lang
                                    for word in words_of(query)}) for lang in ("en", "es")}
        self.sent: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, rng: random.Random, _client: int, _step: int) -> tuple[str, dict[str, str]]:
        while True:
            base = rng.choice(self.mix)
            lang = language_of(base)
            query = " ".join([base, *rng.sample([w for w in self.words[lang] if w not in words_of(base)], 2)])
            with self._lock:
                if query not in self.sent:
                    self.sent.add(query)
                    return ("/kb/search?" + urlencode({"q": query}), {"HX-Request": "true", "Accept-Language": lang})


def table_request(_rng: random.Random, _client: int, _step: int) -> tuple[str, dict[str, str]]:
    return "/table", {}


def measure(kb_dir: Path, index_dir: Path, *, seconds: float, think_ms: float, repeats: int) -> dict:
    """{think ms: {page: [run figures]}}: `repeats` runs of each page per pause, interleaved."""
    figures: dict[float, dict[str, list[dict]]] = {}
    with tempfile.TemporaryDirectory() as instance, \
            gunicorn("app:app", kb_server_env(kb_dir, index_dir, Path(instance))) as search_port, \
            gunicorn("bench.framework_limit:app", {}) as table_port:
        pages = {TABLE: (table_port, table_request), SEARCH: (search_port, LiveSearchRequests()),
                 NEW_QUERIES: (search_port, NewLiveSearchRequests())}
        http_load(search_port, pages[SEARCH][1], clients=CLIENTS, seconds=1, think_ms=0, warmup=SEARCH_WARMUP)
        for think in dict.fromkeys([think_ms, 0.0]):
            runs: dict[str, list[dict]] = {label: [] for label in pages}
            for repeat in range(repeats):
                for label in list(pages) if repeat % 2 == 0 else list(pages)[::-1]:
                    port, next_request = pages[label]
                    runs[label].append(http_load(port, next_request, clients=CLIENTS, seconds=seconds,
                                                 think_ms=think, warmup=WARMUP))
                    run = runs[label][-1]
                    print(f"  think {think:g} ms, {label}: {run['req/s']:.0f} req/s, p50 {run['p50']:.1f}, "
                          f"p99 {run['p99']:.1f} ms, {run['errors']} errors", flush=True)
            figures[think] = runs
    return figures


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def report(figures: dict, *, seconds: float, articles: int) -> str:
    from bench._http import THREADS, WORKERS

    repeats = len(next(iter(figures.values()))[TABLE])
    lines = [f"Live search against the framework's limit, same run: gunicorn {'sync' if THREADS == 1 else 'gthread'} "
             f"{WORKERS} workers × {THREADS} thread(s) for both, {CLIENTS} clients, {repeats} interleaved runs of "
             f"{seconds:g} s per page (after a {WARMUP:g} s warm-up each): medians, req/s min–max. Search: "
             f"{articles} articles (the shared corpus), a query mix of {len(live_search_mix())} plain, typo, question "
             "and paraphrase queries in English and Spanish, no client repeating its previous query "
             "(`bench/kb_queries.py`); Mesa remembers a search's results until the index changes, so this is the "
             "figure of popular questions. Every query new: only queries never asked before in the run (a mix query "
             "and two more words of its language), which no memo of results, query vectors or learned boosts "
             "answers: each request embeds its query, ranks it and asks the database for its boosts.", "",
             "| clients | page | requests | errors | req/s (min–max) | p50 ms | p95 ms | p99 ms | search / table |",
             "|---|---|---|---|---|---|---|---|---|"]
    for think, runs in figures.items():
        table = max(_median(runs[TABLE], "req/s"), 1e-9)
        for label in runs:
            rates = [run["req/s"] for run in runs[label]]
            ratio = f"{statistics.median(rates) / table:.2f}" if label != TABLE else ""
            lines.append(f"| 16, think {think:g} ms | {label} | {sum(r['requests'] for r in runs[label])} | "
                         f"{sum(r['errors'] for r in runs[label])} | {statistics.median(rates):.0f} "
                         f"({min(rates):.0f}–{max(rates):.0f}) | {_median(runs[label], 'p50'):.1f} | "
                         f"{_median(runs[label], 'p95'):.1f} | {_median(runs[label], 'p99'):.1f} | "
                         f"{ratio} |")
    return "\n".join(lines)
