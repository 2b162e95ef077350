"""Queue counts are shared for a few seconds, and a ticket change committed in this process shows at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from portal.clock import utcnow
from portal.services.queue_counts import CountsCache
from tests.conftest import login


def test_counts_are_shared_until_a_ticket_changes(app, db, make, alice, agnes):
    cache = app.extensions["queue_counts"]
    make.ticket(requester=alice)
    now = utcnow()
    assert cache.counts(db, agnes, now=now)["unassigned"] == 1

    # A change the cache cannot see (another process's commit, here raw SQL) is not counted until max_age ...
    db.execute(text("UPDATE tickets SET assignee_id = :agent"), {"agent": agnes.id})
    db.commit()
    assert cache.counts(db, agnes, now=now + timedelta(seconds=1))["unassigned"] == 1
    # ... and is counted after it.
    later = now + cache.max_age + timedelta(seconds=1)
    assert cache.counts(db, agnes, now=later)["unassigned"] == 0
    assert cache.counts(db, agnes, now=later)["mine"] == 1

    # A ticket committed through the ORM in this process drops the kept counts at once.
    make.ticket(requester=alice)
    assert cache.counts(db, agnes, now=later)["unassigned"] == 1


def test_mine_is_counted_per_agent(app, db, make, alice, agnes):
    diego = make.user(email="diego@example.com", name="Diego", role="agent")
    make.ticket(requester=alice, assignee=agnes, status="open")
    cache = CountsCache(timedelta(seconds=5))
    now = utcnow()
    assert cache.counts(db, agnes, now=now)["mine"] == 1
    assert cache.counts(db, diego, now=now)["mine"] == 0


def test_the_counts_fragment_shows_a_new_ticket_at_once(client, make, alice, agnes):
    login(client, agnes)
    assert 'data-count="unassigned">0<' in client.get("/agent/counts").text
    make.ticket(requester=alice, subject="Fresh one")
    assert 'data-count="unassigned">1<' in client.get("/agent/counts").text
