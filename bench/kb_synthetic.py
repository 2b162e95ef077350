"""A synthetic knowledge base of N articles built from the real help-center paragraphs in kb-corpus.

Each synthetic article takes its title and first paragraphs from one real article and mixes in
paragraphs from two others of the same language, so word frequencies stay those of real help content.
Deterministic for a given seed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from portal.articles import scan_articles

PRODUCTS = ["Nova", "Atlas", "Orbit", "Pulse", "Vega", "Lumen", "Quartz", "Helix", "Cobalt", "Zephyr"]


def build_synthetic_kb(source_kb: Path, target: Path, count: int, *, seed: int = 7) -> int:
    """Write `count` articles under `target/<lang>/<section>/<slug>.md`; returns the number written."""
    rng = random.Random(seed)
    articles = [article for article in scan_articles(source_kb, "en") if article.status == "published"]
    by_lang: dict[str, list] = {}
    for article in articles:
        by_lang.setdefault(article.lang, []).append(article)
    paragraphs = {lang: [p for a in items for p in re.split(r"\n\s*\n", a.body) if len(p.strip()) > 40]
                  for lang, items in by_lang.items()}
    for number in range(count):
        base = rng.choice(articles)
        product = rng.choice(PRODUCTS)
        extra = rng.sample(paragraphs[base.lang], k=min(6, len(paragraphs[base.lang])))
        own = [p for p in re.split(r"\n\s*\n", base.body) if p.strip()][:8]
        body = "\n\n".join(own[:4] + extra[:3] + own[4:] + extra[3:])
        section = base.section.split("/")[0].lower().replace(" ", "-") or "general"
        slug = f"{re.sub(r'[^a-z0-9]+', '-', base.title.lower()).strip('-')[:60]}-{number}"
        path = target / base.lang / section / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        title = base.title.replace('"', "'")
        path.write_text(
            f'---\ntitle: "{title} ({product})"\nstatus: published\nupdated: 2026-0{1 + number % 9}-1{number % 9}\n'
            f"tags: [{product.lower()}]\n---\n\n{body}\n",
            encoding="utf-8",
        )
    return count
