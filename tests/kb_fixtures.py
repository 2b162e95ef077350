"""The fixture help center and the two helpers the search tests share (their `kb_dir` and `index` fixtures are in
tests/unit/conftest.py)."""

from __future__ import annotations

from pathlib import Path

FIXTURE_KB = Path(__file__).resolve().parent / "data" / "kb"


def paths(results) -> list[str]:
    return [hit.path for hit in results.hits]


def write(kb_dir: Path, path: str, text: str) -> None:
    file = kb_dir / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
