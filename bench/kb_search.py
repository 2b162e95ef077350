"""Knowledge-base search speed: indexing, freshness, in-process latency and live search over HTTP.

Figures (medians of the runs; the machine is shared, so each figure is the median of several runs):
1. Full index time: the shared corpus (525 articles) and a synthetic corpus of 10,000 articles built
   from the corpus's own paragraphs (bench/kb_synthetic.py).
2. Freshness at 10,000 articles: a changed article saved (atomically, as editors and Mesa do) until a
   search in another process finds it, through the web app's throttled check (`KbIndex.refresh`).
3. In-process latency at 10,000 articles, p50/p95 per query kind (plain, typo, phrase); warm (the
   per-term caches filled, as in a running worker) and the first, cold pass separately.
4. HTTP: gunicorn on 127.0.0.1 (2 workers × 2 threads, as its recorded figures were measured) serving the
   live-search fragment (`GET /kb/search?q=…` with HX-Request) to 16 concurrent clients for a bounded time; p50/p95/p99.
   Clients pause like typists (the 250 ms debounce) by default; `--think-ms 0` measures saturation.

Usage: python bench/kb_search.py [--articles 10000] [--seconds 20] [--think-ms 250] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._http import gunicorn, http_load, percentile  # noqa: E402
from bench.kb_synthetic import build_synthetic_kb  # noqa: E402
from bench.results_file import write_section  # noqa: E402
from portal.search import KbIndex  # noqa: E402
from portal.views.kb_access import SYNC_INTERVAL  # noqa: E402

CORPUS = ROOT.parent / "shared" / "kb-corpus"
WARMUP = 10.0  # seconds of load before measuring: each worker opens the index and fills its caches
QUERIES = {
    "plain": ["reset password", "track my order", "delete my account", "install arduino ide", "board not detected",
              "shipping methods", "cloud plan price", "security key", "verify my identity", "contraseña",
              "cambiar número de teléfono", "upload sketch error", "accepted payment methods", "wifi firmware"],
    "typo": ["pasword reset", "arduno uplod eror", "delet acount", "secuirty key", "shiping methods",
             "bord not detected", "verfy identity", "contrasenia", "udpate board packages", "instal ide"],
    "phrase": ['"security key"', '"board not detected"', '"reset the password"', '"verify your identity"',
               '"shipping methods"', '"cloud plan"', '"código de seguridad"', '"exit status 1"'],
}


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def index_time(kb_dir: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            index = KbIndex(Path(scratch) / "index", kb_dir, "en")
            times.append(timed(index.ensure))
            index.close()
    return statistics.median(times)


def latency(index: KbIndex, rounds: int) -> dict[str, dict[str, float]]:
    """p50/p95 in ms per query kind; `cold` is the first pass over each query after the index opened."""
    figures: dict[str, dict[str, float]] = {}
    for kind, queries in QUERIES.items():
        cold = [timed(lambda q=q: index.search(q, lang="en")) * 1000 for q in queries]
        warm = [timed(lambda q=q: index.search(q, lang="en")) * 1000 for _ in range(rounds) for q in queries]
        figures[kind] = {"p50": statistics.median(warm), "p95": percentile(warm, 0.95),
                         "cold p50": statistics.median(cold), "cold max": max(cold)}
    return figures


def whoosh_matcher_latency(index: KbIndex, rounds: int) -> dict[str, float]:
    """The plain queries' terms scored by Whoosh's own matchers instead of Mesa's impact arrays."""
    from portal.search.ranking import QueryBuilder
    from portal.search.scoring import whoosh_reference
    from portal.search.text_query import parse_query

    context = index._context()
    allowed = index._allowed_docs(context, ("published",), None, None)
    builder = QueryBuilder(context.searcher.reader(), context.analyzers, context.synonyms, "en")
    plans = [builder.build(parse_query(q)) for q in QUERIES["plain"]]
    times = [timed(lambda plan=plan: whoosh_reference(context.searcher, plan.leaves, allowed=allowed, limit=40)) * 1000
             for _ in range(rounds) for plan in plans]
    return {"p50": statistics.median(times), "p95": percentile(times, 0.95)}


def freshness(kb_dir: Path, index_dir: Path, runs: int) -> dict[str, float]:
    """Seconds from saving a changed article until a search in another process-like reader finds it."""
    writer = KbIndex(index_dir, kb_dir, "en")
    reader = KbIndex(index_dir, kb_dir, "en")
    writer.ensure()
    target = sorted(kb_dir.rglob("*.md"))[0]
    original = target.read_text(encoding="utf-8")
    delays, commits = [], []
    try:
        for run in range(runs):
            word = f"zebrafish{run}x{random.randrange(10**6)}"
            writer.refresh(interval=0)
            time.sleep(random.random() * SYNC_INTERVAL)  # a change lands at any moment between two checks
            temporary = target.with_suffix(".tmp")
            temporary.write_text(original + f"\n\nNew paragraph about {word}.\n", encoding="utf-8")
            os.replace(temporary, target)
            start = time.perf_counter()
            found = False
            while not found and time.perf_counter() - start < 10:
                refreshed = writer.refresh(interval=SYNC_INTERVAL)  # what each web worker does on its requests
                if refreshed is not None and refreshed.changed:
                    commits.append(time.perf_counter() - start)
                found = any(hit.path.endswith(target.name) for hit in reader.search(word).hits)
                time.sleep(0.01)
            delays.append(time.perf_counter() - start)
    finally:
        target.write_text(original, encoding="utf-8")
        writer.refresh(interval=0)
        writer.close()
        reader.close()
    return {"searchable p50": statistics.median(delays), "searchable max": max(delays),
            "sync+commit p50": statistics.median(commits) if commits else float("nan")}


# ----- HTTP -----------------------------------------------------------------------------------------


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


def live_search_request(rng: random.Random, _client: int, _step: int) -> tuple[str, dict[str, str]]:
    query = rng.choice([q for group in QUERIES.values() for q in group])
    return "/kb/search?" + urlencode({"q": query}), {"HX-Request": "true", "Accept-Language": "en"}


def http_benchmark(kb_dir: Path, index_dir: Path, args) -> dict[str, dict[str, float]]:
    results = {}
    with tempfile.TemporaryDirectory() as instance, \
            gunicorn("app:app", kb_server_env(kb_dir, index_dir, Path(instance)), workers=2, threads=2) as port:
        for think in dict.fromkeys([args.think_ms, 0.0]):
            results[f"think {think:g} ms"] = http_load(port, live_search_request, clients=16, seconds=args.seconds,
                                                       think_ms=think, warmup=WARMUP)
    return results


def report(figures: dict) -> str:
    lines = ["| figure | value |", "|---|---|"]
    lines += [f"| full index, shared corpus (525 articles) | {figures['index_corpus']:.1f} s |",
              f"| full index, synthetic {figures['articles']:,} articles | {figures['index_synthetic']:.1f} s |"]
    for name, value in figures["freshness"].items():
        lines.append(f"| changed article → {name} ({figures['articles']:,} articles) | {value * 1000:.0f} ms |")
    lines += ["", f"In-process search latency at {figures['articles']:,} articles (ms):", "",
              "| kind | p50 | p95 | cold p50 | cold max |", "|---|---|---|---|---|"]
    for kind, values in figures["latency"].items():
        lines.append(f"| {kind} | {values['p50']:.1f} | {values['p95']:.1f} | {values['cold p50']:.1f} | "
                     f"{values['cold max']:.1f} |")
    if figures.get("whoosh_matchers"):
        reference = figures["whoosh_matchers"]
        lines += ["", f"For comparison, the plain queries scored by Whoosh's own BM25F matchers (union tree, top 40): "
                  f"p50 {reference['p50']:.1f} ms, p95 {reference['p95']:.1f} ms (why `portal/search/scoring.py` "
                  "adds up cached impact arrays instead)."]
    if figures.get("http"):
        lines += ["", "HTTP live search (`/kb/search`, HX-Request), gunicorn 2 workers × 2 threads, 16 clients, "
                  f"{figures['seconds']:.0f} s after a {WARMUP:.0f} s warm-up, "
                  f"{figures['articles']:,} articles (ms):", "",
                  "| clients | requests | errors | req/s | p50 | p95 | p99 |", "|---|---|---|---|---|---|---|"]
        for label, values in figures["http"].items():
            lines.append(f"| 16, {label} | {values['requests']} | {values['errors']} | {values['req/s']:.0f} | "
                         f"{values['p50']:.1f} | {values['p95']:.1f} | {values['p99']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--think-ms", type=float, default=250.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    figures: dict = {"articles": args.articles, "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as scratch:
        synthetic = Path(scratch) / "kb"
        build_synthetic_kb(CORPUS, synthetic, args.articles)
        figures["index_corpus"] = index_time(CORPUS, args.runs)
        print(f"corpus indexed in {figures['index_corpus']:.1f} s", flush=True)
        index_dir = Path(scratch) / "index"
        index = KbIndex(index_dir, synthetic, "en")
        figures["index_synthetic"] = timed(index.ensure)  # one run: it is the index the rest uses
        print(f"{args.articles} articles indexed in {figures['index_synthetic']:.1f} s", flush=True)
        figures["latency"] = latency(index, rounds=5)
        figures["whoosh_matchers"] = whoosh_matcher_latency(index, rounds=2)
        index.close()
        print(figures["latency"], flush=True)
        figures["freshness"] = freshness(synthetic, index_dir, runs=5)
        print(figures["freshness"], flush=True)
        if not args.no_http:
            figures["http"] = http_benchmark(synthetic, index_dir, args)
            print(figures["http"], flush=True)
        shutil.rmtree(synthetic, ignore_errors=True)
    text = report(figures)
    print(text)
    if not args.no_write:
        load = os.getloadavg()[0]
        write_section("kb_search", "## Knowledge-base search speed (`bench/kb_search.py`)\n\n"
                      f"2-core machine shared with other work (load average {load:.1f} at the end of the run). "
                      "Medians of several runs where noted.\n\n" + text)


if __name__ == "__main__":
    main()
