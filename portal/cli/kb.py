"""`flask --app app kb reindex [--full]`: bring the search index up to date, or rebuild it."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal.search import KbIndex

group = AppGroup("kb", help="Knowledge base.")


def _index() -> KbIndex:
    config = current_app.config
    return KbIndex(config["KB_INDEX_DIR"], config["KB_DIR"], config["DEFAULT_LANGUAGE"], write_timeout=30.0)


@group.command("reindex")
@click.option("--full", is_flag=True, help="Rebuild from scratch (words and embeddings) instead of indexing only "
              "what changed.")
@click.option("--keep-embeddings", is_flag=True, help="With --full: keep the vectors of unchanged articles.")
def reindex(full: bool, keep_embeddings: bool) -> None:
    """Index added and changed articles and drop deleted ones (--full: re-index and re-embed every article).
    Safe while the site runs: searches use the old index until the new one is committed (during a full rebuild,
    articles not yet re-embedded are found by their words)."""
    index = _index()
    try:
        if full:
            label = "Indexing and embedding articles"
            with click.progressbar(length=1, label=label, show_pos=True, show_eta=True) as bar:
                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)
                count = index.rebuild(progress=progress, embeddings=not keep_embeddings)
            click.echo(f"Indexed {count} articles.")
        else:
            report = index.ensure()
            if report.embedded:
                click.echo(f"Embedded {report.embedded} articles that had no vectors.")
            if report.rebuilt:
                click.echo(f"Built the index: {index.document_count()} articles.")
            else:
                click.echo(f"Added {len(report.added)}, updated {len(report.updated)}, deleted {len(report.deleted)}"
                           + (f"; {len(report.skipped)} left for later (index busy)" if report.skipped else "") + ".")
    finally:
        index.close()
