"""The judged search queries of `tests/search_eval/` (development and held-out sets), read and checked.

Shared by `bench/kb_quality.py` (which scores them) and `tests/unit/test_search_eval.py` (which checks
that every expected article exists, tags are known, the two sets do not overlap and every subset is
large enough), so the rules of the evaluation live in one place.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "search_eval"
CORPUS = ROOT.parent / "shared" / "kb-corpus"
DEMO = ROOT / "kb_articles"
DEV, HELDOUT = "dev", "heldout"
# Written after `heldout` had been scored, before the confidence work that followed: scored once, at its end.
CONFIDENCE_HELDOUT = "confidence_heldout"
# Written after `confidence_heldout`, before the no-answer work that follows it: scored once, at its end.
CONFIDENCE_HELDOUT2 = "confidence_heldout2"
# Written after `confidence_heldout2` was scored, before the work on corrected-question embeddings, body chunks
# and confidence that follows it: scored once, at its end.
HELDOUT3 = "heldout3"
SETS = (DEV, HELDOUT, CONFIDENCE_HELDOUT, CONFIDENCE_HELDOUT2, HELDOUT3)
DEMO_PREFIX = "demo:"

# Subsets, in the order the tables show them. `english`/`spanish`: the language the question is written in
# (= `lang`); `short`: at most 3 words; `long`: at least 10 words (both derived, checked here).
# `es-en`: a Spanish question whose answer exists only in English; `en-es`: an English question whose answer
# exists only in Spanish (searched in the Spanish-only view, see `spanish_only_view`).
SUBSETS = ("paraphrase", "problem", "typo", "short", "long", "english", "spanish", "es-en", "en-es", "no-answer")
TAGS = frozenset(SUBSETS) | {"plain"}
MIN_HELDOUT_PER_SUBSET = 15
SHORT_WORDS, LONG_WORDS = 3, 10
KBS = ("corpus", "demo")


@dataclass(frozen=True)
class Query:
    query: str
    lang: str
    tags: tuple[str, ...]
    expected: tuple[str, ...]  # as written in the file (demo articles carry the `demo:` prefix)
    kb: str  # "corpus" or "demo": the help center the customer searches

    @property
    def spanish_only(self) -> bool:
        """Searched in the view of the help center whose bilingual parts keep only their Spanish half."""
        return "en-es" in self.tags

    @property
    def answers(self) -> frozenset[str]:
        """Accepted articles as paths relative to the searched KB folder."""
        return frozenset(path.removeprefix(DEMO_PREFIX) for path in self.expected)


def load(name: str) -> list[Query]:
    """`dev` or `heldout`, as written in `tests/search_eval/<name>.yaml`."""
    rows = yaml.safe_load((EVAL / f"{name}.yaml").read_text(encoding="utf-8")) or []
    return [_query(row) for row in rows]


def _query(row: dict) -> Query:
    expected = tuple(row.get("expected") or ())
    kinds = {"demo" if path.startswith(DEMO_PREFIX) else "corpus" for path in expected}
    kb = row.get("kb") or (kinds.pop() if len(kinds) == 1 else "mixed")
    return Query(query=str(row["query"]), lang=str(row["lang"]), tags=tuple(row.get("tags") or ()),
                 expected=expected, kb=kb)


def article_file(path: str) -> Path:
    """Where an expected article lives on disk."""
    if path.startswith(DEMO_PREFIX):
        return DEMO / path.removeprefix(DEMO_PREFIX)
    return CORPUS / path


def problems(query: Query) -> list[str]:
    """What is wrong with one judged query (empty when it is well formed); paths are not checked here."""
    found = []
    unknown = set(query.tags) - TAGS
    if unknown:
        found.append(f"unknown tags {sorted(unknown)}")
    if query.lang not in ("en", "es"):
        found.append(f"lang {query.lang!r} is neither en nor es")
    if query.kb not in KBS:
        found.append(f"kb {query.kb!r}: expected articles must all be in one help center (corpus or demo:)")
    language_tag = "english" if query.lang == "en" else "spanish"
    if language_tag not in query.tags or {"english", "spanish"} <= set(query.tags):
        found.append(f"a {query.lang} question is tagged {language_tag} (and only that language)")
    words = len(query.query.split())
    if ("short" in query.tags) != (words <= SHORT_WORDS):
        found.append(f"{words} words: tag short if and only if at most {SHORT_WORDS} words")
    if ("long" in query.tags) != (words >= LONG_WORDS):
        found.append(f"{words} words: tag long if and only if at least {LONG_WORDS} words")
    if ("no-answer" in query.tags) != (not query.expected):
        found.append("no-answer if and only if `expected` is empty")
    folders = ["/" + path.removeprefix(DEMO_PREFIX) for path in query.expected]
    if "es-en" in query.tags and (query.lang != "es" or any("/es/" in path for path in folders)):
        found.append("es-en: a Spanish question whose accepted articles are English")
    if "en-es" in query.tags and (query.lang != "en" or any("/en/" in path for path in folders)):
        found.append("en-es: an English question whose accepted articles are Spanish")
    return found


def spanish_only_view(kb_dir: Path, target: Path) -> Path:
    """A copy of `kb_dir` where every folder holding both `en/` and `es/` keeps only `es/`.

    The two help centers here are fully translated (Login.gov, the demo KB), so English questions about
    Spanish-only articles are asked of this view: the Spanish half of each bilingual help center, next to
    the English-only help center (Arduino) that stays as it is. The original folder is never written to.
    """
    def ignore(folder: str, names: list[str]) -> list[str]:
        return ["en"] if "en" in names and "es" in names and Path(folder, "es").is_dir() else []

    shutil.copytree(kb_dir, target, ignore=ignore)
    return target
