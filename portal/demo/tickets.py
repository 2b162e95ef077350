"""Turning demo stories into tickets, messages and an audit trail, by replaying their turns."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo.stories_en import STORIES_EN
from portal.demo.stories_es import STORIES_ES
from portal.demo.story import AGENTS, Story, Turn
from portal.models import Group, Message, Ticket, TicketEvent, TicketTag, User
from portal.services.refs import ref_from_number
from portal.status import Action, Role, Status, apply_action

# The defaults of the portal's settings: demo history follows the same clock.
AUTO_CLOSE_DAYS = 28
SUBMIT_AS = {"open": Action.SET_OPEN, "pending": Action.SET_PENDING, "on_hold": Action.SET_ON_HOLD,
             "solved": Action.SOLVE}
CUSTOMER_ACTIONS = {"closed": Action.CONFIRM}
AUTO_CLOSE_ACTIONS = {"closed": Action.AUTO_CLOSE}

STORIES: tuple[Story, ...] = STORIES_EN + STORIES_ES


def demo_ref(story: Story) -> str:
    """A demo ticket has the same reference on every machine: that is how a later load recognises it, even
    after an agent renamed it. (Demo tickets are public anyway; real tickets get random references.)"""
    digest = hashlib.sha256(f"mesa-demo/{story.key}".encode()).digest()
    return ref_from_number(int.from_bytes(digest[:8], "big"))


def ensure_tickets(
    session: Session, users: dict[str, User], groups: dict[str, Group], *, now: datetime
) -> list[Ticket]:
    """Create the demo tickets that are not there yet (by their fixed reference); returns the new ones."""
    refs = {story.key: demo_ref(story) for story in STORIES}
    present = dict(session.execute(select(Ticket.ref, Ticket.id).where(Ticket.ref.in_(refs.values()))).all())
    by_key: dict[str, int] = {}
    created: list[Ticket] = []
    now = now.replace(microsecond=0)
    for story in sorted(STORIES, key=lambda s: -s.age_days):
        ref = refs[story.key]
        if ref in present:
            by_key[story.key] = present[ref]
            continue
        parent_id = by_key.get(story.follow_up_of) if story.follow_up_of else None
        ticket = Replay(session, story, users, groups, created_at=now - timedelta(days=story.age_days)).run(
            ref, parent=session.get(Ticket, parent_id) if parent_id else None
        )
        if ticket.updated_at > now:
            raise ValueError(f"Demo story {story.key!r} ends after now")
        by_key[story.key] = ticket.id
        created.append(ticket)
    return created


class Replay:
    """Plays one story's turns through the status machine, as the agents' and customers' buttons would."""

    def __init__(
        self, session: Session, story: Story, users: dict[str, User], groups: dict[str, Group], *,
        created_at: datetime,
    ) -> None:
        self.session, self.story, self.users, self.groups = session, story, users, groups
        self.created_at = created_at

    def run(self, ref: str, parent: Ticket | None) -> Ticket:
        story = self.story
        requester = self.users[story.requester]
        self.ticket = ticket = Ticket(
            ref=ref, subject=story.subject, status="new", priority=story.priority,
            channel=story.channel, language=story.language, requester=requester,
            group=self.groups[story.group] if story.group else None, follow_up_of=parent,
            created_at=self.created_at, updated_at=self.created_at, version=1,
            tags=[TicketTag(tag=tag) for tag in story.tags],
        )
        self.session.add(ticket)
        self.session.flush()
        self.event(requester, self.created_at, "created", *(("follow_up_of", None, parent.ref) if parent else ()))
        previous = -1.0
        for index, turn in enumerate(story.turns):
            if turn.at < previous:
                raise ValueError(f"Demo story {story.key!r}: turns out of order")
            previous = turn.at
            self.play(turn, first=index == 0)
        # The status machine and the changes above set ids; reload so `ticket.assignee` and `.group` follow.
        self.session.flush()
        self.session.expire(ticket, ["assignee", "group"])
        return ticket

    def play(self, turn: Turn, *, first: bool) -> None:
        when = self.created_at + timedelta(hours=turn.at)
        actor = self.users[turn.author] if turn.author else None
        status = turn.changes.get("status")
        if first:
            pass  # the description the ticket was filed with
        elif turn.author is None:
            self.act(AUTO_CLOSE_ACTIONS[status], None, Role.SYSTEM, when, auto_close_days=AUTO_CLOSE_DAYS)
        elif turn.author in AGENTS:
            self.agent_turn(turn, actor, when)
        else:
            if turn.body is not None:
                self.act(Action.CUSTOMER_REPLY, actor, Role.CUSTOMER, when, text=turn.body)
            if status is not None:
                self.act(CUSTOMER_ACTIONS[status], actor, Role.CUSTOMER, when)
        if turn.body is not None:
            self.message(turn, actor, when, first=first)
        self.ticket.updated_at = when

    def agent_turn(self, turn: Turn, agent: User, when: datetime) -> None:
        ticket, changes = self.ticket, turn.changes
        if ticket.status == Status.NEW and "assignee" not in changes:
            # Working on a new ticket starts with taking it: assigned to you, and open.
            self.act(Action.TAKE, agent, Role.AGENT, when)
        if "group" in changes:
            group = self.groups[changes["group"]]
            self.change(agent, when, "group_changed", "group_id", ticket.group_id, group.id)
            ticket.group_id = group.id
        if "assignee" in changes:
            assignee = self.users[changes["assignee"]]
            self.change(agent, when, "assigned", "assignee_id", ticket.assignee_id, assignee.id)
            ticket.assignee_id = assignee.id
        if "priority" in changes:
            self.change(agent, when, "priority_changed", "priority", ticket.priority, changes["priority"])
            ticket.priority = changes["priority"]
        status = changes.get("status") or ("open" if ticket.status == Status.NEW else None)
        if status is not None and status != ticket.status:
            self.act(SUBMIT_AS[status], agent, Role.AGENT, when)

    def act(self, action: Action, actor: User | None, role: Role, when: datetime, **guard: object) -> None:
        """The one way a status changes (`portal.status`), with the records it returns as the audit trail."""
        self.session.flush()  # ids for the records
        records = apply_action(self.ticket, action, role=role.value, actor_id=actor.id if actor else None,
                               now=when, **guard)  # type: ignore[arg-type]
        self.session.add_all(TicketEvent(ticket=self.ticket, **asdict(record)) for record in records)

    def change(self, actor: User, when: datetime, kind: str, field: str, old: object, new: object) -> None:
        """A change the status machine does not cover (group, another assignee, priority)."""
        self.event(actor, when, kind, field, None if old is None else str(old), str(new))
        self.ticket.version += 1

    def message(self, turn: Turn, author: User | None, when: datetime, *, first: bool) -> None:
        ticket = self.ticket
        from_agent = turn.author in AGENTS
        # Agents write in the back office; customers keep to the channel they started on.
        keeps_channel = first or not from_agent and ticket.channel in ("email", "phone")
        channel = ticket.channel if keeps_channel else "web"
        self.session.add(
            Message(ticket=ticket, author=author, body=turn.body.strip(), public=turn.public, channel=channel,
                    created_at=when)
        )
        if from_agent and turn.public and ticket.first_response_at is None:
            ticket.first_response_at = when
        if not first:
            self.event(author, when, "replied" if turn.public else "note_added")

    def event(self, actor: User | None, when: datetime, kind: str, field: str | None = None,
              old: str | None = None, new: str | None = None) -> None:
        self.session.add(TicketEvent(ticket=self.ticket, actor=actor, created_at=when, kind=kind, field=field,
                                     old_value=old, new_value=new))
