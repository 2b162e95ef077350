"""`KbIndex`: the knowledge base's Whoosh index — derived data, rebuilt or synced from the files.

Lifecycle rules:
- The index lives in its own folder (the instance folder's `kb_index/` in the app). `ensure()` builds it
  when it is missing or unreadable, else syncs it; deleting the folder and restarting rebuilds it.
- `sync()` compares each file's (mtime, size) with what was indexed, re-reads only the files that
  changed, and re-indexes a file only when its content hash changed; deleted files leave the index.
- One writer at a time across processes (Whoosh's lock file). A writer waits up to `write_timeout`
  seconds; a sync that cannot get the lock skips its changes and the next sync retries them.
- Readers keep one searcher per thread and reopen it as soon as the index generation changes, so a
  newly indexed article is found by the next search in every process.
- Every article written to the index is embedded first (`embeddings`: vectors by content hash in the same
  folder), so the generation that shows it can also find it by meaning. A missing or partial vector store is
  filled by `ensure()`; an article without vectors is still found by its words.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.query import And, Or, Query, Term
from whoosh.writing import CLEAR

from portal.articles import PUBLIC_STATUSES, Article, iter_article_paths, load_article
from portal.search import ranking
from portal.search.documents import index_document, to_hit
from portal.search.embeddings import DenseIndex, EmbeddingStore, embed_articles, embedder
from portal.search.files import changed_folders, folder_files, folder_stamps, stamp_of
from portal.search.results import Hit, SearchResults, SyncReport
from portal.search.schema import INDEX_NAME, analyzers, build_schema
from portal.search.scoring import Snapshot
from portal.search.searching import SearchContext, run_search
from portal.search.snippets import TermMatcher
from portal.search.text_query import Synonyms, parse_query

log = logging.getLogger(__name__)

SYNONYMS_FILE = "_synonyms.txt"
MAX_PER_PAGE = 50
FILL_BATCH = 64  # articles read and embedded together during a full build

Progress = Callable[[int, int], None]


class KbIndex:
    """The search index of one KB folder. Thread-safe; safe with several processes on one index folder."""

    def __init__(self, index_dir: Path | str, kb_dir: Path | str, default_lang: str = "en", *,
                 synonyms_file: Path | str | None = None, write_timeout: float = 5.0) -> None:
        self.index_dir = Path(index_dir)
        self.kb_dir = Path(kb_dir)
        self.default_lang = default_lang
        self.synonyms_file = Path(synonyms_file) if synonyms_file else self.kb_dir / SYNONYMS_FILE
        self.write_timeout = write_timeout
        self._store = EmbeddingStore(self.index_dir)
        self._analyzers = analyzers()
        self._term_matchers = {
            lang: TermMatcher(lambda word, analyzer=analyzer: [token.text for token in analyzer(word)])
            for lang, analyzer in self._analyzers.items()
        }
        self._ix: whoosh_index.Index | None = None
        self._known: dict[str, str] = {}  # path -> stamp this process knows to be indexed
        self._known_loaded = False
        self._synonyms = Synonyms()
        self._synonyms_stamp: str | None = None
        self._lock = threading.RLock()
        self._local = threading.local()
        self._searchers: list = []
        self._snapshots: dict[int, Snapshot] = {}
        self._refresh_lock = threading.Lock()
        self._last_refresh = self._last_full_scan = float("-inf")
        self._last_folders: tuple = ()

    # ----- lifecycle -------------------------------------------------------------------------------

    def ensure(self) -> SyncReport:
        """Build the index when it is missing or unreadable, else bring it in sync with the files."""
        with self._lock, self._build_lock():
            if self._open_existing() is None:
                self._create_and_fill(None)
                return SyncReport(rebuilt=True)
        report = self.sync()
        report.embedded = self.backfill_embeddings()
        return report

    def backfill_embeddings(self, progress: Progress | None = None) -> int:
        """Embed indexed articles that have no vectors (the store was deleted, or the model changed)."""
        with self._lock:
            ix = self._require_index()
            with ix.searcher() as searcher:
                reader = searcher.reader()
                paths, hashes = reader.column_reader("path"), reader.column_reader("content_hash")
                indexed = {hashes[docnum]: paths[docnum] for docnum in reader.all_doc_ids()}
            missing = sorted(set(indexed) - self._store.known(), key=indexed.get)
            done = 0
            for start in range(0, len(missing), FILL_BATCH):
                paths = [indexed[content_hash] for content_hash in missing[start : start + FILL_BATCH]]
                batch = [load_article(self.kb_dir, path, self.default_lang) for path in paths]
                self._embed([article for article in batch if article is not None])
                done += len(batch)
                if progress is not None:
                    progress(done, len(missing))
            if missing:
                self._snapshots.clear()  # the next search builds its matrix with the new vectors
            return len(missing)

    def rebuild(self, progress: Progress | None = None, *, embeddings: bool = True) -> int:
        """Re-index every article from scratch; readers keep the old index until the new one commits.
        `embeddings`: compute every article's vectors again too (else vectors of unchanged contents are kept)."""
        with self._lock, self._build_lock():
            if embeddings:
                self._store.clear()
            ix = self._open_existing()
            return self._create_and_fill(progress) if ix is None else self._fill(ix, progress)

    def sync(self, *, write_timeout: float | None = None, folders: set[str] | None = None) -> SyncReport:
        """Index added and changed files, drop deleted ones. Cheap when nothing changed (one stat per file).
        `folders` (relative posix paths, "" for the top) limits the scan to those folders' own files.
        `write_timeout` (default: the index's) is how long to wait for another process's writer."""
        with self._lock:
            ix = self._require_index()
            self._load_synonyms()
            self._load_known(ix)
            if folders is None:
                on_disk = dict(iter_article_paths(self.kb_dir))
                known = list(self._known)
            else:
                on_disk = {path: stat for folder in folders for path, stat in folder_files(self.kb_dir, folder)}
                known = [path for path in self._known if path.rpartition("/")[0] in folders]
            changed = [path for path, stat in on_disk.items() if self._known.get(path) != stamp_of(stat)]
            gone = [path for path in known if path not in on_disk]
            if not changed and not gone:
                return SyncReport()
            stamps = {path: stamp_of(on_disk[path]) for path in changed}
            return self._apply_changes(ix, changed, gone, stamps, write_timeout=write_timeout)

    def refresh(self, *, interval: float = 1.0, full_scan_every: float = 30.0) -> SyncReport | None:
        """The web app's cheap, throttled sync: at most once per `interval` seconds per process, and only
        when a folder changed (a file added, deleted or saved by rename, as editors, git and Mesa's own
        publishing do) or the synonyms file changed; a file edited in place is caught by the full scan
        every `full_scan_every` seconds. Returns None when no sync ran (too soon, or another thread is on it)."""
        now = time.monotonic()
        if now - self._last_refresh < interval or not self._refresh_lock.acquire(blocking=False):
            return None
        try:
            self._last_refresh = now
            folders = folder_stamps(self.kb_dir)
            synonyms = self._synonyms_file_stamp()
            full = now - self._last_full_scan >= full_scan_every or synonyms != self._synonyms_stamp
            if folders == self._last_folders and not full:
                return None
            moved = None if full or not self._last_folders else changed_folders(self._last_folders, folders,
                                                                                   self.kb_dir)
            # Never make a web request wait for another worker's writer: it is indexing the same change,
            # and what it does not cover is retried on the next check (the folder stamps stay stale).
            report = self.sync(write_timeout=0, folders=moved)
            if full and not self._store.exists():
                self.backfill_embeddings()  # someone deleted the vectors: rebuild them, as for the index
            if not report.skipped:
                self._last_folders = folders
                if full:
                    self._last_full_scan = now
            return report
        finally:
            self._refresh_lock.release()

    def index_article(self, article: Article) -> None:
        """Index (or re-index) one article now, e.g. right after it was published from a ticket."""
        with self._lock:
            ix = self._require_index()
            stamp = self._file_stamp(article.path)
            self._embed([article])
            with self._writer(ix) as writer:
                writer.update_document(**self._document(article, stamp))
            self._known[article.path] = stamp

    def remove(self, path: str) -> None:
        with self._lock:
            ix = self._require_index()
            with self._writer(ix) as writer:
                writer.delete_by_term("path", path)
            self._known.pop(path, None)

    def close(self) -> None:
        """Close every searcher and the index (tests, shutdown). The object can be used again later."""
        with self._lock:
            self._forget_searchers()

    # ----- searching -------------------------------------------------------------------------------

    def search(self, query: str, *, lang: str | None = None, only_lang: str | None = None,
               section: str | None = None, page: int = 1, per_page: int = 10,
               visible_statuses: Iterable[str] = PUBLIC_STATUSES,
               boosts: Mapping[str, float] | None = None) -> SearchResults:
        """Articles matching `query`, the customer's language (`lang`) first. `only_lang` and `section`
        filter. `boosts` (path -> 0..1) is what earlier searchers of this query found useful (see
        `services.search_learning`). Raises `QueryTooLong` past `MAX_QUERY_CHARS`; any other input is
        searched as words."""
        page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
        synonyms, statuses, boosts = self._synonyms, tuple(visible_statuses), boosts or {}
        parsed = parse_query(query, synonyms)
        if parsed.is_empty:
            return SearchResults(query=query, total=0, suggestion=None, hits=[], page=page, per_page=per_page)
        context = self._context()
        # Everything the results depend on besides the generation (whose snapshot holds the memo, so a change to
        # any article, in any process, starts a new one): a customer never gets what an agent's search found.
        key = (query, lang, only_lang, section, page, per_page, statuses, frozenset(boosts.items()), synonyms,
               context.embed is not None)
        results = self._remembered(context, key)
        if results is None:
            allowed = self._allowed_docs(context, statuses, only_lang, section)
            results = run_search(context, parsed, lang=lang, allowed=allowed, page=page, per_page=per_page,
                                 boosts=boosts)
            if not context.fell_back:
                self._remember(context, key, results)
        return replace(results, hits=list(results.hits))  # the caller's own list: the memo's stays as it was

    def suggest(self, query: str) -> str | None:
        """"Did you mean": the query with unknown words replaced by the closest title/heading words."""
        parsed = parse_query(query, self.synonyms)
        context = self._context()
        builder = ranking.QueryBuilder(context.searcher.reader(), self._analyzers, self.synonyms, None,
                                       snapshot=context.snapshot)
        return ranking.suggestion_text(parsed, builder.build(parsed).corrections)

    def sections(self, lang: str | None = None,
                 visible_statuses: Iterable[str] = PUBLIC_STATUSES) -> list[tuple[str, int]]:
        """(section, number of visible articles) for one language (or all), sorted by section."""
        context = self._context()
        sections = context.snapshot.column(context.searcher.reader(), "section")
        counts: dict[str, int] = {}
        for docnum in self._allowed_docs(context, tuple(visible_statuses), lang, None):
            counts[sections[docnum]] = counts.get(sections[docnum], 0) + 1
        return sorted(counts.items())

    def recent(self, lang: str | None = None, *, limit: int = 5, section: str | None = None,
               visible_statuses: Iterable[str] = PUBLIC_STATUSES) -> list[Hit]:
        """The most recently updated visible articles."""
        query = _listing_filter(lang, visible_statuses, section)
        results = self._context().searcher.search(query, limit=limit, sortedby="updated", reverse=True)
        return [to_hit(hit.fields()) for hit in results]

    def promoted(self, lang: str | None = None, *, limit: int = 5,
                 visible_statuses: Iterable[str] = PUBLIC_STATUSES) -> list[Hit]:
        """Visible articles whose front matter says `promoted: true`, most recently updated first."""
        query = And([_listing_filter(lang, visible_statuses), Term("promoted", "yes")])
        results = self._context().searcher.search(query, limit=limit, sortedby="updated", reverse=True)
        return [to_hit(hit.fields()) for hit in results]

    def articles(self, paths: Iterable[str] = (), *, translation_keys: Iterable[str] = (),
                 visible_statuses: Iterable[str] = PUBLIC_STATUSES) -> list[Hit]:
        """Visible articles by path or translation key (for popular, related and translated articles)."""
        terms = [Term("path", path) for path in paths] + [Term("translation_key", key) for key in translation_keys]
        if not terms:
            return []
        searcher = self._context().searcher
        query = And([Or(terms), Or([Term("status", status) for status in visible_statuses])])
        return [to_hit(searcher.stored_fields(docnum)) for docnum in searcher.docs_for_query(query)]

    def document_count(self) -> int:
        return self._context().searcher.doc_count()

    @property
    def synonyms(self) -> Synonyms:
        return self._synonyms

    # ----- internals: opening and building ---------------------------------------------------------

    @contextlib.contextmanager
    def _build_lock(self) -> Iterator[None]:
        """Serialises index creation across processes (two workers starting on an empty folder)."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / ".build.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open_existing(self) -> whoosh_index.Index | None:
        if self._ix is not None and _readable(self._ix):
            return self._ix
        # Whoosh leaves the file of an unreadable table of contents open (it is closed when the caught
        # exception is freed, with a ResourceWarning): rebuilding is the answer, the warning is noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                if whoosh_index.exists_in(self.index_dir, indexname=INDEX_NAME):
                    ix = whoosh_index.open_dir(self.index_dir, indexname=INDEX_NAME)
                    if _readable(ix):
                        self._ix = ix
                        return ix
            except Exception as exc:  # derived data: whatever is wrong with it, rebuilding fixes it
                # no exc_info: a kept traceback would keep Whoosh's open file alive past this block
                log.warning("Knowledge-base index in %s is unreadable (%s); rebuilding it", self.index_dir, str(exc))
            gc.collect()
        return None

    def _require_index(self) -> whoosh_index.Index:
        if self._ix is None and self._open_existing() is None:
            self.ensure()
        if self._ix is None:
            raise RuntimeError(f"Knowledge-base index in {self.index_dir} could not be built")
        return self._ix

    def _create_and_fill(self, progress: Progress | None) -> int:
        self._forget_searchers()
        self._ix = whoosh_index.create_in(self.index_dir, build_schema(), indexname=INDEX_NAME)
        return self._fill(self._ix, progress)

    def _fill(self, ix: whoosh_index.Index, progress: Progress | None) -> int:
        self._load_synonyms()
        on_disk = sorted(iter_article_paths(self.kb_dir))
        known: dict[str, str] = {}
        hashes: set[str] = set()
        embedded = self._store.known()
        with self._writer(ix, timeout=max(self.write_timeout, 30.0), mergetype=CLEAR) as writer:
            for start in range(0, len(on_disk), FILL_BATCH):
                batch = on_disk[start : start + FILL_BATCH]
                articles = [(load_article(self.kb_dir, path, self.default_lang), stat) for path, stat in batch]
                self._embed([article for article, _stat in articles if article is not None], embedded)
                for article, stat in articles:
                    if article is not None:
                        writer.add_document(**self._document(article, stamp_of(stat)))
                        known[article.path] = stamp_of(stat)
                        hashes.add(article.content_hash)
                if progress is not None:
                    progress(start + len(batch), len(on_disk))
        self._known, self._known_loaded = known, True
        self._store.keep_only(hashes)
        return len(known)

    # ----- internals: writing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _writer(self, ix: whoosh_index.Index, *, timeout: float | None = None, mergetype=None) -> Iterator:
        writer = ix.writer(timeout=self.write_timeout if timeout is None else timeout, delay=0.05)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        writer.commit(**({"mergetype": mergetype} if mergetype is not None else {}))

    def _apply_changes(self, ix: whoosh_index.Index, changed: list[str], gone: list[str],
                       stamps: dict[str, str], *, write_timeout: float | None) -> SyncReport:
        report = SyncReport()
        indexed = self._indexed_hashes(changed + gone)
        to_write: list[Article] = []
        for path in changed:
            article = load_article(self.kb_dir, path, self.default_lang)
            if article is None:
                continue
            if indexed.get(path) == article.content_hash:
                self._known[path] = stamps[path]  # touched only, or indexed by another process already
            else:
                to_write.append(article)
        to_delete = [path for path in gone if path in indexed]
        for path in gone:
            if path not in indexed:
                self._known.pop(path, None)
        if not to_write and not to_delete:
            return report
        self._embed(to_write)
        try:
            with self._writer(ix, timeout=write_timeout) as writer:
                for article in to_write:
                    writer.update_document(**self._document(article, stamps[article.path]))
                for path in to_delete:
                    writer.delete_by_term("path", path)
        except LockError:
            log.info("Knowledge-base index busy; %d changes left for the next sync", len(to_write) + len(to_delete))
            report.skipped = [article.path for article in to_write] + to_delete
            return report
        for article in to_write:
            (report.updated if article.path in indexed else report.added).append(article.path)
            self._known[article.path] = stamps[article.path]
        for path in to_delete:
            report.deleted.append(path)
            self._known.pop(path, None)
        return report

    def _embed(self, articles: list[Article], known: set[str] | None = None) -> None:
        """Store vectors for the articles that have none. Never stops indexing: without vectors an article
        is still found by its words, and the next `ensure()` tries again."""
        try:
            have = known if known is not None else set(self._store.get(a.content_hash for a in articles))
            todo = [article for article in articles if article.content_hash not in have]
            if todo:
                vectors = embed_articles(todo)
                self._store.put(vectors)
                if known is not None:
                    known.update(vectors)
        except Exception:
            log.warning("Could not embed %d knowledge-base articles; they are searchable by words only",
                        len(articles), exc_info=True)

    def _document(self, article: Article, stamp: str) -> dict[str, object]:
        lang = article.lang if article.lang in self._analyzers else self.default_lang
        return index_document(article, stamp=stamp, lang=lang)

    def _file_stamp(self, path: str) -> str:
        try:
            return stamp_of((self.kb_dir / path).stat())
        except OSError:
            return ""

    def _load_known(self, ix: whoosh_index.Index) -> None:
        """What is indexed, as path -> stamp, read once per process from the index's columns."""
        if self._known_loaded:
            return
        with ix.searcher() as searcher:
            reader = searcher.reader()
            paths, stamps = reader.column_reader("path"), reader.column_reader("stamp")
            self._known = {paths[docnum]: stamps[docnum] for docnum in reader.all_doc_ids()}
        self._known_loaded = True

    def _indexed_hashes(self, paths: list[str]) -> dict[str, str]:
        searcher = self._context().searcher
        found = {}
        for path in paths:
            stored = searcher.document(path=path)
            if stored is not None:
                found[path] = stored["content_hash"]
        return found

    def _synonyms_file_stamp(self) -> str | None:
        try:
            return stamp_of(self.synonyms_file.stat())
        except OSError:
            return None

    def _load_synonyms(self) -> None:
        stamp = self._synonyms_file_stamp()
        if stamp != self._synonyms_stamp:
            self._synonyms = Synonyms.load(self.synonyms_file) if stamp else Synonyms()
            self._synonyms_stamp = stamp

    # ----- internals: reading ----------------------------------------------------------------------

    def _context(self) -> SearchContext:
        """This thread's searcher, reopened when any process has committed since, plus the snapshot of
        its generation (shared by this process's threads)."""
        state = self._local
        searcher = getattr(state, "searcher", None)
        if searcher is not None and not self._is_current(searcher):
            self._discard(searcher)
            searcher = None
        if searcher is None:
            searcher = self._open_searcher()
            state.searcher = searcher
        generation = searcher.reader().generation()
        snapshot = self._snapshots.get(generation)
        if snapshot is None:
            with self._lock:
                snapshot = self._snapshots.setdefault(generation, Snapshot(generation))
                for old in sorted(self._snapshots)[:-2]:
                    del self._snapshots[old]
        return SearchContext(searcher=searcher, snapshot=snapshot, analyzers=self._analyzers,
                             synonyms=self._synonyms, term_matchers=self._term_matchers,
                             dense=lambda: self._dense_index(searcher, snapshot), embed=_embed_query)

    def _dense_index(self, searcher, snapshot: Snapshot) -> DenseIndex | None:
        """This generation's vectors, built once (from the previous generation's where articles did not change)."""
        if snapshot.dense is not None:
            return snapshot.dense
        with snapshot.dense_lock:
            if snapshot.dense is None:
                previous = next((other.dense for generation, other in sorted(self._snapshots.items(), reverse=True)
                                 if other is not snapshot and other.dense is not None), None)
                try:
                    hashes = snapshot.column(searcher.reader(), "content_hash")
                    snapshot.dense = DenseIndex.build(hashes, self._store, previous)
                except Exception:
                    log.warning("Could not load the knowledge base's vectors; searching by words only", exc_info=True)
                    return None
        return snapshot.dense

    @staticmethod
    def _is_current(searcher) -> bool:
        try:
            return searcher.up_to_date()
        except Exception:  # the index folder was deleted or replaced under us
            return False

    def _open_searcher(self):
        try:
            searcher = self._require_index().searcher()
        except Exception:
            log.warning("Knowledge-base index vanished or broke; rebuilding it", exc_info=True)
            with self._lock:
                self._ix = None
                self._known_loaded = False
            searcher = self._require_index().searcher()
        with self._lock:
            self._searchers.append(searcher)
        return searcher

    def _discard(self, searcher) -> None:
        with self._lock:
            if searcher in self._searchers:
                self._searchers.remove(searcher)
        with contextlib.suppress(Exception):
            searcher.close()

    def _forget_searchers(self) -> None:
        for searcher in list(self._searchers):
            self._discard(searcher)
        self._local = threading.local()
        self._snapshots.clear()
        if self._ix is not None:
            self._ix.close()
            self._ix = None

    @staticmethod
    def _remembered(context: SearchContext, key: tuple) -> SearchResults | None:
        """The results of the same search in this generation: live search sends the same prefixes and popular
        questions over and over."""
        return context.snapshot.results.get(key)

    @staticmethod
    def _remember(context: SearchContext, key: tuple, results: SearchResults) -> None:
        context.snapshot.results.put(key, results)

    def _allowed_docs(self, context: SearchContext, statuses: tuple[str, ...], only_lang: str | None,
                      section: str | None) -> set[int]:
        """The documents a search may return, cached per generation (most searches share the filter)."""
        key = (statuses, only_lang, section)
        filters = context.snapshot.filters
        if key not in filters:
            query = _listing_filter(only_lang, statuses, section)
            filters[key] = set(context.searcher.docs_for_query(query))
        return filters[key]


def _embed_query(text: str):
    return embedder().query_vector(text)


def _readable(ix: whoosh_index.Index) -> bool:
    try:
        with ix.searcher() as searcher:
            searcher.doc_count()
        return True
    except Exception:
        return False


def _listing_filter(lang: str | None, statuses: Iterable[str], section: str | None = None) -> Query:
    clauses: list[Query] = [Or([Term("status", status) for status in statuses])]
    if lang:
        clauses.append(Term("lang", lang))
    if section:
        clauses.append(Term("sections", section))
    return And(clauses)
