"""Random journeys through the status machine keep its promises, whatever order people and timers act in."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from portal.errors import InvalidTransition
from portal.models import Ticket
from portal.status import Action, Role, apply_action, can

T0 = datetime(2026, 3, 2, 9, 0)

PAIRS = [(action, role) for action in Action for role in Role]

details = st.tuples(
    st.sampled_from([1, 2, 3, 4]),  # who acts, for the roles that have a person behind them
    st.integers(min_value=0, max_value=24 * 10),  # hours since the previous step
    st.sampled_from([None, "", "It prints blank pages again", "Sigue sin funcionar"]),  # reason
    st.sampled_from([None, "Thanks!", "muchas gracias", "Thanks, but it still fails"]),  # reply text
    st.integers(min_value=0, max_value=7),  # the timers' delays, in days
)


def next_step(data, ticket: Ticket) -> tuple:
    """Mostly an action the table offers (so journeys get far), sometimes anything at all (so refusals happen)."""
    offered = list(dict.fromkeys(action for action, role in PAIRS if can(ticket, action, role)))
    if not offered or data.draw(st.integers(0, 4), label="anything") == 0:
        action, role = data.draw(st.sampled_from(PAIRS), label="action, role")
    else:
        action = data.draw(st.sampled_from(offered), label="action")
        role = data.draw(st.sampled_from([r for r in Role if can(ticket, action, r)]), label="role")
    return (action, role, *data.draw(details, label="details"))


def fresh_ticket() -> Ticket:
    return Ticket(ref="MSA-PROP-0001", subject="The printer prints blank pages", status="new", requester_id=1,
                  assignee_id=None, version=1, created_at=T0, updated_at=T0)


def snapshot(ticket: Ticket) -> tuple:
    return (ticket.status, ticket.assignee_id, ticket.version, ticket.updated_at, ticket.solved_at,
            ticket.closed_at)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(min_value=0, max_value=30))
def test_random_journeys_keep_the_invariants(data, length):
    ticket, now, applied, pending_since = fresh_ticket(), T0, 0, None
    for _ in range(length):
        action, role, person, hours, reason, text, days = next_step(data, ticket)
        now += timedelta(hours=hours)
        before, was_closed = snapshot(ticket), ticket.status == "closed"
        offered = can(ticket, action, role)
        try:
            records = apply_action(
                ticket, action, role=role, actor_id=None if role is Role.SYSTEM else person, now=now,
                reason=reason, text=text, auto_close_days=days, pending_since=pending_since,
                pending_timeout_days=days,
            )
        except InvalidTransition:
            assert snapshot(ticket) == before  # a refusal changes nothing
            continue
        assert offered  # what the table refuses is refused; guards may refuse more, never less
        if was_closed:  # closed is terminal: nothing about it changes again
            assert (snapshot(ticket), records) == (before, [])
            event("applied follow_up on closed")
            continue
        applied += 1
        status_events = [r for r in records if r.field == "status"]
        if ticket.status == before[0]:
            assert status_events == []
        else:
            assert [(e.old_value, e.new_value, e.created_at) for e in status_events] == [
                (before[0], ticket.status, now)]
        if ticket.status == "pending" and before[0] != "pending":
            pending_since = now

        assert (ticket.solved_at is not None) == (ticket.status in ("solved", "closed"))
        assert (ticket.closed_at is not None) == (ticket.status == "closed")
        assert ticket.version == 1 + applied
        assert ticket.updated_at == now
        event(f"applied {action.value} on {before[0]}")
