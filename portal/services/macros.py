"""Macros: an agent's one-click bundle of ticket changes plus an optional reply in the ticket's language.

A macro's actions are the business rules' own (services.rules.catalog), checked by the rules' validation and
described by the rules' preview; but a macro acts *as the agent who applies it*, through the same functions the
side panel uses (agent_desk, tickets.set_status), so an agent can do with a macro only what they may do by hand
(a guided group's ticket stays with "Next ticket", the status table holds, a closed ticket does not change).

Shared macros (no owner) are seen by every agent and edited by admins; personal ones are seen and edited by
their owner only. Macros replaced canned responses: the migration that brought macros in copied each canned
response into one (its texts, owner, status, priority and tags), a later one copied those made since, and the
canned-response pages now lead to the macros. A macro with only a reply is what a canned response was: the
composer inserts its text at once (`inserts_only`).

The reply's placeholders (`{{ requester.name }}`, `{{ ticket.ref }}`, `{{ agent.name }}` ...) are replaced by
plain text (services.rules.placeholders), never by a template engine."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from portal.errors import N_, DomainError, Invalid, NotAllowed, NotFound
from portal.models import Category, Group, Macro, Message, Ticket, User
from portal.services import agent_desk, assignment, notifications, tickets
from portal.services.rules import actions as rule_actions
from portal.services.rules.catalog import AUTO_ASSIGN
from portal.services.rules.placeholders import fill, ticket_values
from portal.services.rules.validation import validate_actions

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# What an agent may do with one click; mail, webhooks and SLA plans stay with the rules admins write.
MACRO_ACTIONS = frozenset({"set_status", "set_priority", "set_group", "set_assignee", "set_category",
                           "set_language", "set_field", "add_tags", "remove_tags", "add_note"})
TITLE_MAX = 120
BODY_MAX = 20000
BULK_MAX = agent_desk.BULK_MAX
_MISSING = N_("We could not find that macro.")


# ---- Seeing and editing --------------------------------------------------------------------------------------


def available(session: Session, agent: User) -> list[Macro]:
    """The shared macros and the agent's own, by title."""
    return list(session.scalars(select(Macro).where(or_(Macro.owner_id.is_(None), Macro.owner_id == agent.id))
                                .order_by(Macro.title, Macro.id)))


def get_usable(session: Session, macro_id: int | None, agent: User) -> Macro:
    """A macro the agent may apply; someone else's personal macro is as missing as one that does not exist."""
    macro = session.get(Macro, macro_id or 0)
    if macro is None or not agent.is_agent or (macro.owner_id is not None and macro.owner_id != agent.id):
        raise NotFound(_MISSING)
    return macro


def copied_from_canned(session: Session, canned_id: int, agent: User) -> Macro | None:
    """The macro a canned response was copied into (the old canned-response pages lead there), if the agent may
    edit it."""
    macro = session.scalar(select(Macro).where(Macro.canned_response_id == canned_id).order_by(Macro.id).limit(1))
    return macro if macro is not None and agent.is_agent and can_edit(macro, agent) else None


def can_edit(macro: Macro, agent: User) -> bool:
    """Shared macros are the admins'; a personal one is its owner's."""
    return agent.is_admin if macro.owner_id is None else macro.owner_id == agent.id


def get_editable(session: Session, macro_id: int | None, agent: User) -> Macro:
    macro = get_usable(session, macro_id, agent)
    if not can_edit(macro, agent):
        raise NotAllowed(N_("Only admins change the macros shared with every agent."))
    return macro


def save(session: Session, macro: Macro | None, *, title: str, body_en: str, body_es: str, shared: bool,
         actions: object, actor: User, now: datetime) -> Macro:
    """Create (macro None) or change a macro. Only admins share a macro with everyone or change a shared one.
    Its actions are checked as a rule's are; the first problem is raised as Invalid (field `actions.<n>...`)."""
    if macro is not None and not can_edit(macro, actor):
        raise NotAllowed(N_("Only admins change the macros shared with every agent."))
    if not actor.is_agent or (shared and not actor.is_admin):
        raise NotAllowed(N_("Only admins can share a macro with every agent."))
    title = " ".join((title or "").split())
    if not title or len(title) > TITLE_MAX:
        raise Invalid(N_("Give it a title of at most %(max)s characters."), field="title", max=TITLE_MAX)
    body_en, body_es = (body_en or "").strip(), (body_es or "").strip()
    if len(body_en) > BODY_MAX or len(body_es) > BODY_MAX:
        raise Invalid(N_("A reply has at most %(max)s characters."), field="body_en", max=BODY_MAX)
    clean, errors = validate_actions(session, actions, allowed=MACRO_ACTIONS)
    if errors:
        key, problem = next(iter(errors.items()))
        raise Invalid(problem.message, field=key, **problem.params)
    if not clean and not body_en and not body_es:
        raise Invalid(N_("A macro changes something or replies: give it a reply or an action."), field="body_en")
    if macro is None:
        macro = Macro(created_at=now, created_by_id=actor.id, owner_id=None if shared else actor.id)
        session.add(macro)
    elif shared:
        macro.owner_id = None
    macro.title, macro.body_en, macro.body_es, macro.actions = title, body_en, body_es, clean
    macro.updated_at, macro.updated_by_id = now, actor.id
    return macro


def delete(session: Session, macro: Macro, *, actor: User) -> None:
    if not can_edit(macro, actor):
        raise NotAllowed(N_("Only admins change the macros shared with every agent."))
    session.delete(macro)


def inserts_only(macro: Macro) -> bool:
    """A macro that changes nothing, only replies (a former canned response): choosing it puts its text in the
    composer at once, with no preview to confirm."""
    return not macro.actions


# ---- What it would do -----------------------------------------------------------------------------------------


def reply_for(macro: Macro, ticket: Ticket, agent: User | None, *, url: str = "", rule_name: str = "") -> str:
    """The reply in the ticket's language (Spanish when the macro has it, else English), placeholders filled.
    Applied by a rule (`agent` None), `{{ agent.name }}` is empty and `{{ rule.name }}` names the rule."""
    body = macro.body_es if ticket.language == "es" and macro.body_es.strip() else macro.body_en
    if not body.strip() and macro.body_es.strip():
        body = macro.body_es
    values = {**ticket_values(ticket, url=url, rule_name=rule_name),
              "agent.name": agent.name if agent is not None else ""}
    return fill(body, values).strip()


@dataclass(frozen=True)
class Preview:
    """What applying the macro would do: the reply and each change in words (rules.actions.Said)."""

    reply: str
    changes: list[rule_actions.Said]


def preview(session: Session, ticket: Ticket, macro: Macro, agent: User, *, url: str = "") -> Preview:
    """Nothing is written: the reply as it would land in the composer and each change as the rules say it.
    `url` is the ticket's absolute address, for `{{ ticket.url }}`."""
    return Preview(reply=reply_for(macro, ticket, agent, url=url),
                   changes=[rule_actions.preview(session, action, ticket) for action in macro.actions])


# ---- Doing it -------------------------------------------------------------------------------------------------


def apply(session: Session, ticket: Ticket, macro: Macro, *, actor: User, now: datetime,
          expected_version: int | None, url: str = "") -> str:
    """Make the macro's changes as the agent (refused as a whole when one of them is, or when someone changed
    the ticket since `expected_version`), and return the reply for the agent to review and send (`url`, the
    ticket's absolute address, fills `{{ ticket.url }}`: the reply goes out by mail)."""
    tickets.check_version(ticket, expected_version)
    for action in macro.actions:
        _do(session, ticket, action, actor=actor, now=now)
    return reply_for(macro, ticket, actor, url=url)


def apply_to_many(session: Session, refs: Sequence[str], macro: Macro, *, actor: User, now: datetime,
                  ticket_url: Callable[[str], str] | None = None
                  ) -> tuple[list[Ticket], list[tuple[str, DomainError]]]:
    """The macro on each selected ticket, its reply sent as a public reply: one ticket refused (closed, a status
    the table refuses, a guided group's) stays as it was and the others change."""
    refs = list(dict.fromkeys(refs))[:BULK_MAX]
    if not refs:
        raise Invalid(N_("Select at least one ticket."), field="refs")
    found = list(session.scalars(select(Ticket).where(Ticket.ref.in_(refs)).options(
        selectinload(Ticket.tags), selectinload(Ticket.assignee), selectinload(Ticket.requester))))
    changed, refused = [], []
    for ticket in found:
        try:
            with session.begin_nested():
                reply = apply(session, ticket, macro, actor=actor, now=now, expected_version=None,
                              url=ticket_url(ticket.ref) if ticket_url else "")
                if reply:
                    tickets.agent_reply(session, ticket, body=reply, public=True, actor=actor, now=now)
            changed.append(ticket)
        except DomainError as exc:
            refused.append((ticket.ref, exc))
    return changed, refused


def selected(session: Session, refs: Sequence[str]) -> list[Ticket]:
    """The tickets a bulk selection names (for the preview's count), at most BULK_MAX."""
    refs = list(dict.fromkeys(refs))[:BULK_MAX]
    return list(session.scalars(select(Ticket).where(Ticket.ref.in_(refs)).order_by(Ticket.id))) if refs else []


def _do(session: Session, ticket: Ticket, action: dict, *, actor: User, now: datetime) -> None:
    kind, value = action["type"], action.get("value")
    if kind == "set_status":
        if ticket.status != value:
            tickets.set_status(session, ticket, value, actor=actor, now=now)
    elif kind == "set_priority":
        agent_desk.set_priority(session, ticket, value, actor=actor, now=now)
    elif kind == "set_group":
        agent_desk.set_group(session, ticket, _row(session, Group, value), actor=actor, now=now)
    elif kind == "set_assignee":
        agent_desk.assign(session, ticket, _assignee(session, ticket, value), actor=actor, now=now)
    elif kind == "set_category":
        agent_desk.set_category(session, ticket, _row(session, Category, value), actor=actor, now=now)
    elif kind == "set_language":
        agent_desk.set_language(session, ticket, value, actor=actor, now=now)
    elif kind == "set_field":
        found = next((f for f in (ticket.category.fields if ticket.category else [])
                      if f.key == action["field"] and f.active), None)
        if found is None:
            raise Invalid(N_("This ticket's category has no field %(field)s."), field="field", **{
                "field": action["field"]})
        agent_desk.set_field_value(session, ticket, found.id, value or "", actor=actor, now=now)
    elif kind == "add_tags":
        for tag in value:
            agent_desk.add_tag(session, ticket, tag, actor=actor, now=now)
    elif kind == "remove_tags":
        for tag in value:
            agent_desk.remove_tag(session, ticket, tag, actor=actor, now=now)
    elif kind == "add_note":
        if ticket.status == "closed":
            raise Invalid(N_("This ticket is closed: nothing can change it; create a follow-up instead."))
        body = fill(action["body"], {**ticket_values(ticket, url=""), "agent.name": actor.name}).strip()
        tickets.add_message(session, ticket, body=body or "-", author=actor, public=False, now=now)


def _row(session: Session, model: type, ident: object):
    row = session.get(model, ident)
    if row is None:
        raise Invalid(N_("Something this macro names no longer exists; ask an admin to fix it."))
    return row


def _assignee(session: Session, ticket: Ticket, value: object) -> User:
    if value == AUTO_ASSIGN:
        agent = assignment.pick_agent(session, ticket)
        if agent is None:
            raise Invalid(N_("Would assign nobody: no agent of the group is free."))
        return agent
    return _row(session, User, value)


# ---- Applied by a rule ----------------------------------------------------------------------------------------


def get_for_rule(session: Session, macro_id: object) -> Macro:
    """The shared macro a rule applies, read at each firing (an edit to the macro counts at once); one deleted or
    made personal since the rule was saved raises MacroUnusable."""
    macro = session.get(Macro, macro_id) if isinstance(macro_id, int) else None
    if macro is None or macro.owner_id is not None:
        raise rule_actions.MacroUnusable(macro_id, personal=macro is not None,
                                         title=macro.title if macro is not None else "")
    return macro


def reply_by_rule(session: Session, ticket: Ticket, macro: Macro, *, url: str, rule_name: str,
                  now: datetime) -> Message | None:
    """A rule sends the macro's reply as the agent's bulk apply does: in public, e-mailed to the customer, but
    from the support team rather than a person. A macro without a reply sends nothing."""
    body = reply_for(macro, ticket, None, url=url, rule_name=rule_name)
    if not body:
        return None
    message = tickets.add_message(session, ticket, body=body[:tickets.BODY_MAX], author=None, public=True, now=now)
    notifications.public_reply_added(session, ticket, message, now=now)
    return message
