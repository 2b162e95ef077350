"""Work that must happen in the same transaction as whatever changed tickets, without the ticket services
calling it: webhooks queue their deliveries, the report rollup recomputes its rows.

`before_commit(factory, remember, act)` gathers, at every flush of a transaction, what `remember(session)`
picks from the flushed objects; just before the outermost commit it calls `act(session, gathered)` once, inside
that transaction, so the work commits or rolls back with the change. A transaction rolled back forgets what it
gathered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

Item = TypeVar("Item")


def before_commit(session_factory, remember: Callable[[Session], Iterable[Item]],
                  act: Callable[[Session, list[Item]], object]) -> None:
    """Hook `act` to every transaction of sessions made by `session_factory` (a sessionmaker); idempotent."""
    key = f"commit_hooks.{act.__module__}.{act.__qualname__}"

    def gather(session: Session, _flush_context) -> None:
        found = list(remember(session))
        if found:
            session.info.setdefault(key, []).extend(found)

    def run(session: Session) -> None:
        if session.in_nested_transaction():
            return
        session.flush()  # what was added since the last flush is gathered too
        gathered = session.info.pop(key, None)
        if gathered:
            act(session, gathered)

    def forget(session: Session, transaction) -> None:
        if transaction.parent is None:
            session.info.pop(key, None)

    hooks = session_factory.__dict__.setdefault("_mesa_commit_hooks", set())
    if key in hooks:
        return
    hooks.add(key)
    event.listen(session_factory, "after_flush", gather)
    event.listen(session_factory, "before_commit", run)
    event.listen(session_factory, "after_transaction_end", forget)


def after_commits_changing(session_factory, classes: tuple[type, ...], act: Callable[[], object]) -> None:
    """Call `act()` after each commit of a `session_factory` session that added, changed or deleted an instance
    of `classes`, through the unit of work or a bulk UPDATE/DELETE: for caches of this process to drop what
    the commit made stale."""
    key = f"commit_hooks.changed.{act.__module__}.{act.__qualname__}.{id(act)}"

    def note_flush(session: Session, _flush_context) -> None:
        if any(isinstance(item, classes) for item in (*session.new, *session.dirty, *session.deleted)):
            session.info[key] = True

    def note_statement(state) -> None:  # bulk statements bypass the flush
        if (state.is_update or state.is_delete) and any(
                getattr(mapper, "class_", None) in classes for mapper in state.all_mappers):
            state.session.info[key] = True

    def after_commit(session: Session) -> None:
        if session.info.pop(key, False):
            act()

    event.listen(session_factory, "after_flush", note_flush)
    event.listen(session_factory, "do_orm_execute", note_statement)
    event.listen(session_factory, "after_commit", after_commit)
