"""A version conflict under a real race: the 409 names the version the ticket has NOW, so a client that retries
with `current_version` succeeds. Two database sessions interleaved on purpose (the loser has read the ticket
before the winner commits), then real API clients against the real server (gunicorn)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from portal.clock import utcnow
from portal.errors import Conflict
from portal.models import Ticket, TicketEvent
from portal.services import api_tickets
from tests.web.api_support import token_for

PRIORITIES = ("low", "normal", "high", "urgent")


def _load(session, ref: str) -> Ticket:
    return session.scalar(select(Ticket).where(Ticket.ref == ref))


def test_the_loser_of_a_race_is_told_the_winners_version_and_succeeds_with_it(app, make):
    """The loser loads version N, the winner writes N + 1 and holds its transaction open while the loser's
    write waits for it (PostgreSQL's row lock, SQLite's write lock). The 409 must say N + 1, not the N the
    loser had read; retrying with it succeeds."""
    winner_agent, loser_agent = make.user(role="agent"), make.user(role="agent")
    ref = make.ticket(status="open", assignee=winner_agent).ref
    first, second = app.extensions["sessionmaker"](), app.extensions["sessionmaker"]()
    refused: list[Conflict] = []
    try:
        mine, theirs = _load(first, ref), _load(second, ref)
        version = mine.version
        assert theirs.version == version
        api_tickets.update_ticket(first, mine, api_tickets.TicketChanges(version=version, priority="high"),
                                  actor=first.merge(winner_agent), now=utcnow())
        first.flush()  # the winner's write is in, not yet committed

        def lose() -> None:
            try:
                api_tickets.update_ticket(second, theirs, api_tickets.TicketChanges(version=version, priority="low"),
                                          actor=second.merge(loser_agent), now=utcnow())
            except Conflict as exc:
                refused.append(exc)

        loser = threading.Thread(target=lose)
        loser.start()
        time.sleep(0.5)  # the loser is now waiting for the winner's lock
        first.commit()
        loser.join(timeout=30)
        assert not loser.is_alive()

        [conflict] = refused
        assert conflict.details["version"] == version + 1  # what the ticket really has, not the N it had read
        second.rollback()
        retried = _load(second, ref)
        api_tickets.update_ticket(second, retried,
                                  api_tickets.TicketChanges(version=conflict.details["version"], priority="low"),
                                  actor=second.merge(loser_agent), now=utcnow())
        second.commit()
        second.expire_all()
        final = _load(second, ref)
        assert (final.version, final.priority) == (version + 2, "low")
    finally:
        first.close()
        second.close()


CLIENTS = 6


@pytest.mark.parametrize("round_", range(2))
def test_api_clients_racing_on_one_ticket_each_succeed_by_retrying_with_current_version(portal, make, db, round_):
    """Six API clients PATCH the same version at once. Every 409 names a newer version than the one sent
    (never the stale one), and each client, retrying with what it was told, gets its change in: at most one
    refusal per change of the others."""
    agents = [make.user(role="agent", email=f"racer-{round_}-{n}@example.com") for n in range(CLIENTS)]
    tokens = [token_for(db, agent) for agent in agents]
    ticket = make.ticket(status="open", assignee=agents[0])
    start = ticket.version
    barrier = threading.Barrier(CLIENTS, timeout=60)

    def race(number: int) -> list[tuple[int, int, int | None]]:
        """(version sent, status, current_version reported) for each try of this client."""
        tries = []
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {tokens[number]}"
            url = f"{portal.url}/api/v1/tickets/{ticket.ref}"
            assert http.get(url, timeout=30).status_code == 200  # connected and authenticated before the race
            version = start
            barrier.wait()
            for _attempt in range(CLIENTS):
                response = http.patch(url, json={"version": version, "priority": PRIORITIES[number % 4],
                                                 "tags": [f"racer-{number}"]}, timeout=30)
                reported = response.json().get("error", {}).get("current_version")
                tries.append((version, response.status_code, reported))
                if response.status_code != 409:
                    break
                version = reported
        return tries

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(race, range(CLIENTS)))

    for tries in results:
        assert all(status in (200, 409) for _sent, status, _reported in tries), tries
        assert tries[-1][1] == 200, f"a client never got its change in: {tries}"
        for sent, status, reported in tries:
            if status == 409:
                assert reported is not None and reported > sent, f"a stale current_version: {tries}"
    assert sum(len(tries) > 1 for tries in results) >= 1  # they really collided
    db.expire_all()
    final = db.scalar(select(Ticket).where(Ticket.ref == ticket.ref))
    tags_added = db.scalars(select(TicketEvent.new_value).where(TicketEvent.ticket_id == final.id,
                                                               TicketEvent.kind == "tag_added")).all()
    assert sorted(tags_added) == [f"racer-{n}" for n in range(CLIENTS)]  # every client's change is in, once
