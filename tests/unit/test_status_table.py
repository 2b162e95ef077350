"""The status machine, cell by cell: every status × action × role, then the guards, stamps, events and messages."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

import pytest

from portal.errors import InvalidTransition
from portal.models import Ticket, TicketEvent
from portal.status import (
    Action,
    EventRecord,
    Role,
    Status,
    agent_label,
    allowed_actions,
    apply_action,
    can,
    customer_status,
    is_terminal,
)

T0 = datetime(2026, 3, 2, 9, 0)
NOW = T0 + timedelta(days=30)
ACTOR = {"customer": 1, "agent": 2, "admin": 3, "system": None}
ASSIGNEE = 7

# What each role gets when it tries each action on a ticket in each status, with every guard satisfied
# (an assignee, a reason, the days elapsed): the status afterwards, or "-" when refused.
# Written out by hand from the product's issues; deliberately not derived from portal.status.
EXPECTED = """
status   action           customer  agent    admin    system
new      take             -         open     open     -
new      set_open         -         open     open     -
new      set_pending      -         pending  pending  -
new      set_on_hold      -         on_hold  on_hold  -
new      solve            -         solved   solved   -
new      customer_reply   new       -        -        -
new      reopen           -         -        -        -
new      confirm          -         -        -        -
new      auto_close       -         -        -        -
new      pending_timeout  -         -        -        -
new      escalate         -         new      new      -
new      de_escalate      -         new      new      -
new      merge            -         closed   closed   -
new      follow_up        -         -        -        -
new      postpone         -         new      new      -
new      resume           -         open     open     open
open     take             -         open     open     -
open     set_open         -         open     open     -
open     set_pending      -         pending  pending  -
open     set_on_hold      -         on_hold  on_hold  -
open     solve            -         solved   solved   -
open     customer_reply   open      -        -        -
open     reopen           -         -        -        -
open     confirm          -         -        -        -
open     auto_close       -         -        -        -
open     pending_timeout  -         -        -        -
open     escalate         -         open     open     -
open     de_escalate      -         open     open     -
open     merge            -         closed   closed   -
open     follow_up        -         -        -        -
open     postpone         -         open     open     -
open     resume           -         open     open     open
pending  take             -         pending  pending  -
pending  set_open         -         open     open     -
pending  set_pending      -         pending  pending  -
pending  set_on_hold      -         on_hold  on_hold  -
pending  solve            -         solved   solved   -
pending  customer_reply   open      -        -        -
pending  reopen           -         -        -        -
pending  confirm          -         -        -        -
pending  auto_close       -         -        -        -
pending  pending_timeout  -         -        -        solved
pending  escalate         -         pending  pending  -
pending  de_escalate      -         pending  pending  -
pending  merge            -         closed   closed   -
pending  follow_up        -         -        -        -
pending  postpone         -         pending  pending  -
pending  resume           -         open     open     open
on_hold  take             -         on_hold  on_hold  -
on_hold  set_open         -         open     open     -
on_hold  set_pending      -         pending  pending  -
on_hold  set_on_hold      -         on_hold  on_hold  -
on_hold  solve            -         solved   solved   -
on_hold  customer_reply   open      -        -        -
on_hold  reopen           -         -        -        -
on_hold  confirm          -         -        -        -
on_hold  auto_close       -         -        -        -
on_hold  pending_timeout  -         -        -        -
on_hold  escalate         -         on_hold  on_hold  -
on_hold  de_escalate      -         on_hold  on_hold  -
on_hold  merge            -         closed   closed   -
on_hold  follow_up        -         -        -        -
on_hold  postpone         -         on_hold  on_hold  -
on_hold  resume           -         open     open     open
solved   take             -         solved   solved   -
solved   set_open         -         open     open     -
solved   set_pending      -         pending  pending  -
solved   set_on_hold      -         on_hold  on_hold  -
solved   solve            -         solved   solved   -
solved   customer_reply   open      -        -        -
solved   reopen           open      -        -        -
solved   confirm          closed    -        -        -
solved   auto_close       -         -        -        closed
solved   pending_timeout  -         -        -        -
solved   escalate         -         -        -        -
solved   de_escalate      -         -        -        -
solved   merge            -         closed   closed   -
solved   follow_up        -         -        -        -
solved   postpone         -         -        -        -
solved   resume           -         -        -        -
closed   take             -         -        -        -
closed   set_open         -         -        -        -
closed   set_pending      -         -        -        -
closed   set_on_hold      -         -        -        -
closed   solve            -         -        -        -
closed   customer_reply   -         -        -        -
closed   reopen           -         -        -        -
closed   confirm          -         -        -        -
closed   auto_close       -         -        -        -
closed   pending_timeout  -         -        -        -
closed   escalate         -         -        -        -
closed   de_escalate      -         -        -        -
closed   merge            -         -        -        -
closed   follow_up        closed    closed   closed   -
closed   postpone         -         -        -        -
closed   resume           -         -        -        -
"""

_header, *_rows = (line.split() for line in EXPECTED.strip().splitlines())
ROLES = _header[2:]
CELLS = {(row[0], row[1], role): outcome for row in _rows for role, outcome in zip(ROLES, row[2:], strict=True)}
STATUSES = list(dict.fromkeys(row[0] for row in _rows))
ACTIONS = list(dict.fromkeys(row[1] for row in _rows))


def make_ticket(status: str = "new", *, assignee_id: int | None = ASSIGNEE, solved_at: datetime | None = None,
                closed_at: datetime | None = None) -> Ticket:
    """A ticket in memory, no session; the timestamps agree with the status unless the test says otherwise."""
    if status in ("solved", "closed") and solved_at is None:
        solved_at = T0 + timedelta(days=1)
    if status == "closed" and closed_at is None:
        closed_at = T0 + timedelta(days=2)
    return Ticket(ref="MSA-TEST-0001", subject="The printer prints blank pages", status=status, requester_id=1,
                  assignee_id=assignee_id, version=1, created_at=T0, updated_at=T0, solved_at=solved_at,
                  closed_at=closed_at)


def act(ticket: Ticket, action: str, role: str, **kwargs) -> list[EventRecord]:
    inputs = {"reason": "The printer still prints blank pages", "text": "It still prints blank pages",
              "auto_close_days": 7, "pending_since": NOW - timedelta(days=10), "pending_timeout_days": 5}
    inputs.update(kwargs)
    return apply_action(ticket, action, role=role, actor_id=ACTOR[role], now=NOW, **inputs)


def snapshot(ticket: Ticket) -> tuple:
    return (ticket.status, ticket.assignee_id, ticket.version, ticket.updated_at, ticket.solved_at,
            ticket.closed_at)


def test_the_expectation_table_covers_every_status_action_and_role():
    assert [s.value for s in Status] == STATUSES
    assert [a.value for a in Action] == ACTIONS
    assert [r.value for r in Role] == ROLES
    assert len(CELLS) == 6 * 16 * 4


@pytest.mark.parametrize(("status", "action", "role"), list(CELLS))
def test_cell(status, action, role):
    ticket = make_ticket(status)
    expected = CELLS[status, action, role]
    assert can(ticket, action, role) is (expected != "-")
    if expected == "-":
        before = snapshot(ticket)
        with pytest.raises(InvalidTransition):
            act(ticket, action, role)
        assert snapshot(ticket) == before
        return
    records = act(ticket, action, role)
    assert ticket.status == expected
    if status == "closed":  # follow_up: the closed ticket itself stays exactly as it was
        assert (records, ticket.version, ticket.updated_at) == ([], 1, T0)
    else:
        assert (ticket.version, ticket.updated_at) == (2, NOW)
        moves = [(r.old_value, r.new_value) for r in records if r.field == "status"]
        assert moves == ([] if expected == status else [(status, expected)])


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("role", ROLES)
def test_allowed_actions_are_the_buttons_of_the_table(status, role):
    expected = [action for action in ACTIONS if CELLS[status, action, role] != "-"]
    assert allowed_actions(make_ticket(status), role) == expected


# Guards


@pytest.mark.parametrize("status", ["new", "open", "pending", "on_hold", "solved"])
def test_nobody_solves_an_unassigned_ticket(status):
    ticket = make_ticket(status, assignee_id=None)
    with pytest.raises(InvalidTransition, match="Assign this ticket before solving it"):
        act(ticket, "solve", "agent")
    assert ticket.status == status


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_reopening_needs_a_reason(reason):
    ticket = make_ticket("solved")
    with pytest.raises(InvalidTransition, match="why"):
        act(ticket, "reopen", "customer", reason=reason)
    assert ticket.status == "solved"


def test_auto_close_waits_n_days_after_the_solution():
    ticket = make_ticket("solved", solved_at=NOW - timedelta(days=7, seconds=-1))
    with pytest.raises(InvalidTransition, match="7 days"):
        act(ticket, "auto_close", "system", auto_close_days=7)
    assert ticket.status == "solved"
    ticket.solved_at = NOW - timedelta(days=7)
    act(ticket, "auto_close", "system", auto_close_days=7)
    assert ticket.status == "closed"


def test_auto_close_needs_the_delay_from_the_caller():
    with pytest.raises(ValueError, match="auto_close_days"):
        act(make_ticket("solved"), "auto_close", "system", auto_close_days=None)


def test_pending_timeout_waits_n_days_since_the_ticket_became_pending():
    ticket = make_ticket("pending")
    with pytest.raises(InvalidTransition, match="5 days"):
        act(ticket, "pending_timeout", "system", pending_since=NOW - timedelta(days=4), pending_timeout_days=5)
    act(ticket, "pending_timeout", "system", pending_since=NOW - timedelta(days=5), pending_timeout_days=5)
    assert (ticket.status, ticket.solved_at) == ("solved", NOW)


def test_pending_timeout_needs_its_inputs_from_the_caller():
    with pytest.raises(ValueError, match="pending_since"):
        act(make_ticket("pending"), "pending_timeout", "system", pending_since=None)


def test_the_system_may_solve_an_unassigned_pending_ticket():
    ticket = make_ticket("pending", assignee_id=None)
    records = act(ticket, "pending_timeout", "system")
    assert ticket.status == "solved"
    assert [(r.kind, r.actor_id) for r in records] == [("auto_solved", None)]


# Customer replies


def test_a_thanks_only_reply_keeps_a_solved_ticket_solved():
    ticket = make_ticket("solved")
    solved_at = ticket.solved_at
    assert act(ticket, "customer_reply", "customer", text="¡Muchas gracias! 🙏") == []
    assert (ticket.status, ticket.solved_at, ticket.version) == ("solved", solved_at, 2)


def test_any_other_reply_reopens_a_solved_ticket():
    ticket = make_ticket("solved")
    records = act(ticket, "customer_reply", "customer", text="Thanks, but it still prints blank pages")
    assert (ticket.status, ticket.solved_at) == ("open", None)
    assert [(r.kind, r.old_value, r.new_value) for r in records] == [("reopened", "solved", "open")]


@pytest.mark.parametrize("status", ["pending", "on_hold"])
def test_a_customer_reply_hands_the_ticket_back_to_the_agents(status):
    ticket = make_ticket(status)
    act(ticket, "customer_reply", "customer", text="Thanks!")
    assert ticket.status == "open"


def test_reopen_is_recorded_as_a_reopening():
    ticket = make_ticket("solved")
    records = act(ticket, "reopen", "customer")
    assert [(r.kind, r.actor_id) for r in records] == [("reopened", 1)]


# Take


def test_take_assigns_the_actor_and_opens_a_new_ticket():
    ticket = make_ticket("new", assignee_id=None)
    records = act(ticket, "take", "agent")
    assert ticket.assignee_id == 2
    assert [(r.kind, r.field, r.old_value, r.new_value) for r in records] == [
        ("assigned", "assignee_id", None, "2"),
        ("status_changed", "status", "new", "open"),
    ]


def test_take_from_another_agent_records_both_assignees():
    ticket = make_ticket("pending", assignee_id=7)
    records = act(ticket, "take", "admin")
    assert (ticket.status, ticket.assignee_id) == ("pending", 3)
    assert [(r.old_value, r.new_value) for r in records] == [("7", "3")]


def test_taking_your_own_ticket_changes_nothing_but_the_version():
    ticket = make_ticket("open", assignee_id=2)
    assert act(ticket, "take", "agent") == []
    assert (ticket.assignee_id, ticket.version) == (2, 2)


def test_take_needs_the_acting_agent():
    with pytest.raises(ValueError, match="acting agent"):
        apply_action(make_ticket("new"), "take", role="agent", actor_id=None, now=NOW)


def test_taking_a_solved_ticket_keeps_it_solved_and_its_clock():
    ticket = make_ticket("solved")
    solved_at = ticket.solved_at
    act(ticket, "take", "agent")
    assert (ticket.status, ticket.solved_at) == ("solved", solved_at)


# Timestamps and version


@pytest.mark.parametrize("action", ["solve", "pending_timeout"])
def test_entering_solved_stamps_solved_at(action):
    ticket = make_ticket("pending")
    act(ticket, action, "system" if action == "pending_timeout" else "agent")
    assert (ticket.status, ticket.solved_at, ticket.closed_at) == ("solved", NOW, None)


def test_a_fresh_solution_restarts_the_auto_close_clock():
    ticket = make_ticket("solved")
    records = act(ticket, "solve", "agent")
    assert (ticket.solved_at, records) == (NOW, [])


@pytest.mark.parametrize(("action", "role"), [("set_open", "agent"), ("set_pending", "agent"),
                                              ("set_on_hold", "agent"), ("reopen", "customer"),
                                              ("customer_reply", "customer")])
def test_leaving_solved_clears_solved_at(action, role):
    ticket = make_ticket("solved")
    act(ticket, action, role)
    assert ticket.solved_at is None


@pytest.mark.parametrize(("action", "role"), [("confirm", "customer"), ("auto_close", "system"), ("merge", "agent")])
def test_closing_a_solved_ticket_keeps_solved_at_and_stamps_closed_at(action, role):
    ticket = make_ticket("solved")
    solved_at = ticket.solved_at
    act(ticket, action, role)
    assert (ticket.status, ticket.solved_at, ticket.closed_at) == ("closed", solved_at, NOW)


def test_merging_an_unsolved_ticket_stamps_both():
    ticket = make_ticket("on_hold")
    records = act(ticket, "merge", "agent")
    assert (ticket.solved_at, ticket.closed_at) == (NOW, NOW)
    assert [r.kind for r in records] == ["merged"]


def test_every_applied_action_bumps_the_version_once():
    ticket = make_ticket("new")
    for action, role in [("take", "agent"), ("escalate", "agent"), ("set_pending", "agent"),
                         ("customer_reply", "customer"), ("solve", "admin"), ("confirm", "customer")]:
        act(ticket, action, role)
    assert (ticket.status, ticket.version, ticket.updated_at) == ("closed", 7, NOW)


# Event records


def test_a_status_event_names_kind_field_values_actor_and_time():
    ticket = make_ticket("solved")
    [record] = act(ticket, "confirm", "customer")
    assert record == EventRecord(kind="confirmed", field="status", old_value="solved", new_value="closed",
                                 actor_id=1, created_at=NOW)


def test_event_records_become_ticket_events_as_they_are():
    ticket = make_ticket("new", assignee_id=None)
    events = [TicketEvent(**asdict(record)) for record in act(ticket, "take", "agent")]
    assert [(e.kind, e.field, e.old_value, e.new_value, e.actor_id, e.created_at) for e in events] == [
        ("assigned", "assignee_id", None, "2", 2, NOW),
        ("status_changed", "status", "new", "open", 2, NOW),
    ]


@pytest.mark.parametrize(("action", "kind"), [("auto_close", "auto_closed")])
def test_system_events_have_no_actor(action, kind):
    [record] = act(make_ticket("solved"), action, "system")
    assert (record.kind, record.actor_id) == (kind, None)


# Messages


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "follow_up"])
def test_a_closed_ticket_says_so_and_points_to_a_follow_up(action, role):
    with pytest.raises(InvalidTransition) as refused:
        act(make_ticket("closed"), action, role)
    assert refused.value.message == "This ticket is closed: nothing can change it; create a follow-up instead."


def test_a_refusal_names_the_status_and_what_it_allows():
    with pytest.raises(InvalidTransition) as refused:
        act(make_ticket("pending"), "confirm", "customer")
    assert refused.value.message == "A pending ticket allows: customer reply."
    assert refused.value.details == {"status": "pending", "action": "confirm", "allowed": ["customer_reply"]}
    assert refused.value.status_code == 409


def test_a_refusal_lists_the_agent_buttons():
    with pytest.raises(InvalidTransition) as refused:
        act(make_ticket("on_hold"), "reopen", "agent")
    assert refused.value.message == ("An on hold ticket allows: take, set open, set pending, set on hold, solve, "
                                     "escalate, de escalate, merge, postpone, resume.")


def test_a_refusal_for_the_system_names_its_one_action():
    # The system's only action on an open ticket is ending a postponement (services.postpone).
    with pytest.raises(InvalidTransition, match="An open ticket allows: resume."):
        act(make_ticket("open"), "auto_close", "system")


def test_an_unknown_role_or_action_is_a_programming_error():
    with pytest.raises(ValueError):
        can(make_ticket("new"), "take", "superuser")
    with pytest.raises(ValueError):
        can(make_ticket("new"), "delete", "agent")


# Labels


@pytest.mark.parametrize(("status", "agent", "customer", "terminal"), [
    ("new", "New", "Open", False),
    ("open", "Open", "Open", False),
    ("pending", "Pending", "Waiting for your reply", False),
    ("on_hold", "On hold", "Open", False),
    ("solved", "Solved", "Solved", False),
    ("closed", "Closed", "Closed", True),
])
def test_labels(status, agent, customer, terminal):
    assert (agent_label(status), customer_status(status), is_terminal(status)) == (agent, customer, terminal)
