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
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of indexing only what changed.")
def reindex(full: bool) -> None:
    """Index added and changed articles and drop deleted ones (--full: re-index every article).
    Safe while the site runs: searches use the old index until the new one is committed."""
    index = _index()
    try:
        if full:
            with click.progressbar(length=1, label="Indexing articles") as bar:
                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)
                count = index.rebuild(progress=progress)
            click.echo(f"Indexed {count} articles.")
        else:
            report = index.ensure()
            if report.rebuilt:
                click.echo(f"Built the index: {index.document_count()} articles.")
            else:
                click.echo(f"Added {len(report.added)}, updated {len(report.updated)}, deleted {len(report.deleted)}"
                           + (f"; {len(report.skipped)} left for later (index busy)" if report.skipped else "") + ".")
    finally:
        index.close()
