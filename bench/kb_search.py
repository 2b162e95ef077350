"""Knowledge-base search speed, words and meaning (issue 17): building, freshness, latency, memory and live search.

Figures (the machine is shared: medians, the words-only figure measured in the same run beside each hybrid one):
1. Full build from an empty index folder, vectors included: the shared corpus (525 articles) and a synthetic
   corpus of 10,000 articles built from the corpus's own paragraphs (bench/kb_synthetic.py); articles, chunks
   embedded, minutes, and how much of it was embedding.
2. In-process latency at 10,000 articles, p50/p95 per query kind (plain, typo, phrase, question), warm (the
   per-term caches and the generation's vectors loaded, as in a running worker), each query embedded as it is
   searched; the same queries words-only, interleaved; the embedding alone; the first, cold pass.
3. Freshness at 10,000 articles: a changed article saved (atomically, as editors and Mesa do) until a search in
   another reader finds it, through the web app's throttled check (`KbIndex.refresh`): embedding the changed
   article, committing, and the reader's first search of the new generation (which builds its vectors' matrix
   from the previous one's).
4. A fresh worker at 10,000 articles: it opens the index and searches words-only, then loads the vectors' matrix
   and the model (each timed) and searches with meaning; its RSS after each, and the matrix's size.
5. HTTP (bench/kb_search_http.py): the live search over the shared corpus against Flask's 50-row table page, for a
   mix of popular queries (which Mesa's memo of results answers) and for queries never asked before.

Usage: python -m bench.kb_search [--articles 10000] [--seconds 20] [--think-ms 250] [--http-repeats 2]
       [--no-http | --http-only] [--profile] [--no-write]
Mesa limits numpy's OpenBLAS to one thread per process when the model loads (portal/search/embeddings.py,
threadpoolctl); the section records the BLAS threads a loaded embedder leaves.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import kb_search_http  # noqa: E402
from bench._http import percentile  # noqa: E402
from bench.kb_queries import QUERIES, language_of  # noqa: E402
from bench.kb_synthetic import build_synthetic_kb  # noqa: E402
from bench.results_file import write_section  # noqa: E402
from portal.search import KbIndex  # noqa: E402
from portal.search import index as index_module  # noqa: E402
from portal.search.embeddings import STORE_FILE, embedder  # noqa: E402
from portal.views.kb_access import SYNC_INTERVAL  # noqa: E402

CORPUS = ROOT.parent / "shared" / "kb-corpus"


class BenchIndex(KbIndex):
    """A `KbIndex` whose semantic half can be switched off on the same instance, so the words-only figure is
    measured in the same run, interleaved, with the same caches and generation. With `semantic` off the
    search context has no embedder, which is the path `run_search` takes without one (`_fuse` returns None):
    the words, the corrections, the collapse and the snippets run as in production; only the query's embedding
    and the fusion are left out. The subclass touches nothing else and Mesa's code keeps no bench switch.

    The figures are those of searching: Mesa's memo of whole results (`KbIndex._remembered`) and of the queries'
    vectors (`Embedder.query_vector`) would answer every round after the first here, so neither is used: each
    search embeds its query with the model and runs in full (the generation's impact lists, term frequencies and
    snippets stay cached, as in a running worker)."""

    semantic = True

    def _context(self):
        context = super()._context()
        return dataclasses.replace(context, embed=_embed_with_the_model if self.semantic else None)

    @staticmethod
    def _remembered(_context, _key):
        return None

    @staticmethod
    def _remember(_context, _key, _results):
        pass


def _embed_with_the_model(text: str):
    return embedder().encode([text])[0]


class EmbeddingClock:
    """Seconds spent embedding articles while indexing: `KbIndex` calls `embed_articles` by its module-level
    name, so wrapping that name counts every call without changing what it does."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._original = index_module.embed_articles

    def __enter__(self) -> EmbeddingClock:
        def timed_embed(articles):
            start = time.perf_counter()
            try:
                return self._original(articles)
            finally:
                self.seconds += time.perf_counter() - start

        index_module.embed_articles = timed_embed
        return self

    def __exit__(self, *_exc) -> None:
        index_module.embed_articles = self._original


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def search(index: KbIndex, query: str):
    return index.search(query, lang=language_of(query))


def stored_vectors(index_dir: Path) -> dict[str, float]:
    store = index_dir / STORE_FILE
    with contextlib.closing(sqlite3.connect(store)) as connection:
        articles, chunks = connection.execute("SELECT count(*), coalesce(sum(chunks), 0) FROM vectors").fetchone()
    return {"embedded articles": articles, "chunks": chunks, "store MB": store.stat().st_size / 2**20}


def full_build(kb_dir: Path, index_dir: Path, label: str) -> dict[str, float]:
    """An empty index folder filled: Whoosh documents and every article's vectors, with progress printed."""
    index = BenchIndex(index_dir, kb_dir, "en")
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 1000 < 64 or done == total:
            print(f"  {label}: {done}/{total} articles, {time.perf_counter() - started:.0f} s", flush=True)

    with EmbeddingClock() as clock:
        articles = index.rebuild(progress)
    seconds = time.perf_counter() - started
    index.close()
    return {"articles": articles, "seconds": seconds, "embedding seconds": clock.seconds, **stored_vectors(index_dir)}


def words_only_build(kb_dir: Path, runs: int) -> float:
    """The same build from an empty folder with the article embedding replaced by a no-op (the articles are then
    found by their words only): what the build cost before vectors. Median seconds of `runs`."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            index = BenchIndex(Path(scratch) / "index", kb_dir, "en")
            original, index_module.embed_articles = index_module.embed_articles, lambda articles: {}
            try:
                times.append(timed(lambda index=index: index.rebuild()))
            finally:
                index_module.embed_articles = original
            index.close()
    return statistics.median(times)


def latency(index: BenchIndex, rounds: int) -> dict[str, dict[str, float]]:
    """ms per query kind: warm p50/p95 with meaning and words-only (interleaved rounds), the query's embedding
    alone, and `cold`: the first pass over each query after the index opened (model loaded by the build; a fresh
    worker's loading is timed in `memory_probe`)."""
    figures: dict[str, dict[str, float]] = {}
    for kind, queries in QUERIES.items():
        index.semantic = True
        cold = [timed(lambda q=q: search(index, q)) * 1000 for q in queries]
        hybrid, words = [], []
        for _ in range(rounds):
            for semantic, times in ((True, hybrid), (False, words)):
                index.semantic = semantic
                times += [timed(lambda q=q: search(index, q)) * 1000 for q in queries]
        index.semantic = True
        embedding = [timed(lambda q=q: embedder().encode([q])) * 1000 for _ in range(rounds) for q in queries
                     if kind != "phrase"]  # a quoted phrase is searched by words only: never embedded
        figures[kind] = {"p50": statistics.median(hybrid), "p95": percentile(hybrid, 0.95),
                         "words p50": statistics.median(words), "words p95": percentile(words, 0.95),
                         "embed p50": statistics.median(embedding) if embedding else float("nan"),
                         "cold p50": statistics.median(cold),
                         "cold max": max(cold)}
    return figures


def profile(index: BenchIndex, count: int = 200) -> None:
    """cProfile of `count` hybrid searches over every kind (printed, not written): where the time goes."""
    import cProfile
    import pstats

    queries = [q for group in QUERIES.values() for q in group]
    profiler = cProfile.Profile()
    profiler.enable()
    for number in range(count):
        search(index, queries[number % len(queries)])
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)


def freshness(kb_dir: Path, index_dir: Path, runs: int) -> dict[str, float]:
    """Seconds from saving a changed article until a search in another reader finds it. Both readers have
    searched before (their generation's matrix is loaded), as in a running worker."""
    writer = KbIndex(index_dir, kb_dir, "en")
    reader = KbIndex(index_dir, kb_dir, "en")
    writer.ensure()
    reader.search("warm up the reader")
    target = sorted(kb_dir.rglob("*.md"))[0]
    original = target.read_text(encoding="utf-8")
    delays, commits, first_searches = [], [], []
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
                searched = time.perf_counter()
                found = any(hit.path.endswith(target.name) for hit in reader.search(word).hits)
                if found:
                    first_searches.append(time.perf_counter() - searched)
                time.sleep(0.01)
            delays.append(time.perf_counter() - start)
    finally:
        target.write_text(original, encoding="utf-8")
        writer.refresh(interval=0)
        writer.close()
        reader.close()
    return {"searchable p50": statistics.median(delays), "searchable max": max(delays),
            "sync+embed+commit p50": statistics.median(commits) if commits else float("nan"),
            "first search of the new generation p50": statistics.median(first_searches)
            if first_searches else float("nan")}


# ----- memory of a worker: a fresh process ---------------------------------------------------------------


def _status_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (its peak) of this process. Not `getrusage`'s ru_maxrss: Linux keeps that
    across fork and exec, so a probe started by this benchmark would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_probe(index_dir: Path, kb_dir: Path) -> dict[str, float]:
    """Run in its own process (`--memory-probe`), as a fresh worker: RSS after opening the index and searching
    words-only, then after loading the vectors' matrix and the model (each timed) and searching with meaning."""
    figures = {"RSS after imports MB": _status_mb("VmRSS")}
    index = BenchIndex(index_dir, kb_dir, "en")
    queries = [q for group in QUERIES.values() for q in group]
    index.semantic = False
    for query in queries * 2:
        search(index, query)
    figures["RSS words-only MB"] = _status_mb("VmRSS")
    index.semantic = True
    figures["matrix load s"] = timed(lambda: index._context().dense())
    figures["model load s"] = timed(lambda: embedder().encode(["warm"]))
    for query in queries * 2:
        search(index, query)
    figures["RSS with meaning MB"] = _status_mb("VmRSS")
    figures["peak RSS MB"] = _status_mb("VmHWM")
    dense = index._context().dense()
    figures["matrix MB"] = dense.matrix.nbytes / 2**20
    figures["matrix rows"] = len(dense.matrix)
    return figures


def worker_memory(index_dir: Path, kb_dir: Path) -> dict[str, float]:
    output = subprocess.run([sys.executable, "-m", "bench.kb_search", "--memory-probe", str(index_dir), str(kb_dir)],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


# ----- report ---------------------------------------------------------------------------------------------


def _build_row(label: str, build: dict) -> str:
    share = build["embedding seconds"] / build["seconds"] if build["seconds"] else 0.0
    return (f"| full build with vectors, {label} | {build['articles']:,} articles, {build['chunks']:,} chunks: "
            f"{build['seconds'] / 60:.1f} min ({build['seconds']:.0f} s; {share:.0%} of it embedding; "
            f"vector store {build['store MB']:.0f} MB) |")


def _synthetic_report(figures: dict) -> list[str]:
    articles = f"{figures['articles']:,}"
    memory = figures["memory"]
    lines = [_build_row(f"synthetic {articles} articles", figures["build_synthetic"]),
             f"| a fresh worker's first search with meaning: load the vectors' matrix ({articles} articles); "
             f"load the model | {memory['matrix load s'] * 1000:.0f} ms; {memory['model load s'] * 1000:.0f} ms |"]
    for name, value in figures["freshness"].items():
        lines.append(f"| changed article → {name} ({articles} articles) | {value * 1000:.0f} ms |")
    lines += [f"| worker RSS, {articles} articles: after imports / searched words-only / searched with meaning | "
              f"{memory['RSS after imports MB']:.0f} / {memory['RSS words-only MB']:.0f} / "
              f"{memory['RSS with meaning MB']:.0f} MB (peak {memory['peak RSS MB']:.0f} MB) |",
              f"| vectors' matrix alone (`DenseIndex`, float32) | {memory['matrix rows']:,} rows × 512: "
              f"{memory['matrix MB']:.0f} MB |",
              "", f"In-process search latency at {articles} articles (ms). With meaning: as Mesa searches, the query "
              "embedded each time; words only: the same queries on the same index with the embedder switched off, "
              "interleaved; embedding: the query's vector alone. A quoted phrase is searched by words only.", "",
              "| kind | p50 | p95 | words-only p50 | words-only p95 | embedding p50 | cold p50 | cold max |",
              "|---|---|---|---|---|---|---|---|"]
    for kind, values in figures["latency"].items():
        embedding = "—" if values["embed p50"] != values["embed p50"] else f"{values['embed p50']:.1f}"
        lines.append(f"| {kind} | {values['p50']:.1f} | {values['p95']:.1f} | {values['words p50']:.1f} | "
                     f"{values['words p95']:.1f} | {embedding} | {values['cold p50']:.1f} | "
                     f"{values['cold max']:.1f} |")
    return lines


def report(figures: dict) -> str:
    lines = ["| figure | value |", "|---|---|"]
    if figures.get("build_corpus"):
        lines.append(_build_row("shared corpus", figures["build_corpus"]))
        lines.append(f"| words-only build, shared corpus (vectors not computed) | {figures['words_corpus']:.1f} s |")
    if figures.get("build_synthetic"):
        lines += _synthetic_report(figures)
    if figures.get("http"):
        lines += ["", kb_search_http.report(figures["http"], seconds=figures["seconds"],
                                            articles=figures["corpus_articles"])]
    return "\n".join(lines)


def measure_live_search(scratch: Path, args, figures: dict) -> None:
    corpus, index_dir = scratch / "corpus", scratch / "corpus-index"
    shutil.copytree(CORPUS, corpus)
    figures["build_corpus"] = full_build(corpus, index_dir, "shared corpus")
    figures["corpus_articles"] = figures["build_corpus"]["articles"]
    figures["words_corpus"] = words_only_build(corpus, runs=3)
    print(figures["build_corpus"], f"words only {figures['words_corpus']:.1f} s", flush=True)
    figures["http"] = kb_search_http.measure(corpus, index_dir, seconds=args.seconds, think_ms=args.think_ms,
                                             repeats=args.http_repeats)


def measure_synthetic(scratch: Path, args, figures: dict) -> None:
    synthetic, index_dir = scratch / "kb", scratch / "index"
    build_synthetic_kb(CORPUS, synthetic, args.articles)
    figures["build_synthetic"] = full_build(synthetic, index_dir, f"{args.articles} articles")
    print(figures["build_synthetic"], flush=True)
    index = BenchIndex(index_dir, synthetic, "en")
    figures["latency"] = latency(index, rounds=args.rounds)
    print(figures["latency"], flush=True)
    if args.profile:
        profile(index)
    index.close()
    figures["freshness"] = freshness(synthetic, index_dir, runs=args.changes)
    print(figures["freshness"], flush=True)
    figures["memory"] = worker_memory(index_dir, synthetic)
    print(figures["memory"], flush=True)


def _blas_threads() -> str:
    from threadpoolctl import threadpool_info

    from portal.search.embeddings import embedder

    embedder().encode(["probe"])  # loading the model sets the process's limit
    return ", ".join(f"{info['internal_api']} {info['num_threads']}" for info in threadpool_info()
                     if info.get("user_api") == "blas") or "none found"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="each measured HTTP load")
    parser.add_argument("--think-ms", type=float, default=250.0)
    parser.add_argument("--http-repeats", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="warm passes over the queries, per kind")
    parser.add_argument("--changes", type=int, default=7, help="changed articles timed until searchable")
    parser.add_argument("--no-http", action="store_true", help="skip the live search over HTTP")
    parser.add_argument("--http-only", action="store_true", help="only the live search over HTTP")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of 200 searches")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--memory-probe", nargs=2, metavar=("INDEX_DIR", "KB_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        print(json.dumps(memory_probe(Path(args.memory_probe[0]), Path(args.memory_probe[1]))))
        return
    load_at_start = os.getloadavg()[0]
    figures: dict = {"articles": args.articles, "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as scratch:
        if not args.no_http:
            measure_live_search(Path(scratch), args, figures)
        if not args.http_only:
            measure_synthetic(Path(scratch), args, figures)
    text = (f"2-core machine shared with other work (load average {load_at_start:.1f} at the start of the run, "
            f"{os.getloadavg()[0]:.1f} at its end; BLAS threads per process once the model is loaded: "
            f"{_blas_threads()}). Medians; words-only figures measured in the same run.\n\n" + report(figures))
    print(text)
    if not args.no_write:
        write_section("kb_search", "## Knowledge-base search speed (`bench/kb_search.py`)\n\n" + text)


if __name__ == "__main__":
    main()
