"""Each benchmark owns one section of bench/RESULTS.md, between `<!-- name:start -->` and `<!-- name:end -->`."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, markdown: str, results: Path = RESULTS) -> None:
    """Replace (or append) this benchmark's section; other sections are left as they are."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _match: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    results.write_text(text, encoding="utf-8")
