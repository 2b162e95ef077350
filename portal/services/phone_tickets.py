"""Tickets an agent files for a customer: a phone call, a letter, a mail forwarded by hand. The customer is the
requester (they see it in their list and get the usual e-mails); the agent is the one who filed it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.errors import N_, Invalid, NotFound
from portal.models import Category, Ticket, User
from portal.services import accounts, tickets
from portal.services.ticket_ccs import EMAIL

CHANNELS = ("phone", "email")
SEARCH_MIN, SEARCH_MAX, SEARCH_LIMIT = 2, 100, 10
LANGUAGES = ("en", "es")


def find_customers(session: Session, query: str, *, actor: User) -> list[User]:
    """Active customers whose name or e-mail contains the words typed, best known first (alphabetical)."""
    _require_agent(actor)
    words = " ".join((query or "").split())[:SEARCH_MAX].lower()
    if len(words) < SEARCH_MIN:
        return []
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(session.scalars(
        select(User).where(User.role == "customer", User.active,
                           or_(func.lower(User.name).like(pattern, escape="\\"), User.email.like(pattern, escape="\\")))
        .order_by(func.lower(User.name), User.id).limit(SEARCH_LIMIT)
    ))


def file_for_customer(
    session: Session, *, customer_id: int | None, new_name: str = "", new_email: str = "", subject: str,
    description: str, category: Category | None, priority: str, channel: str, client_token: str | None = None,
    field_values: Mapping[str, object] | None = None, language: str | None = None, default_language: str = "en",
    actor: User, now: datetime,
) -> tickets.Filed:
    """The agent files the ticket as the customer's: an existing customer, or a new one made from a name and
    an e-mail address (unverified, without a password: they claim it with a password reset). The same form
    sent twice files one ticket. The agent answers the category's custom fields as the customer would on the
    web form, required ones included: they have the customer on the line (or the letter) to ask.

    The language is the agent's choice; left to the portal (None), it is read from what the agent wrote down,
    else the customer's setting, else `default_language`. Without a category the ticket goes to the default
    group, like a mail."""
    _require_agent(actor)
    if client_token:
        earlier = session.scalar(select(Ticket).where(Ticket.client_token == client_token))
        if earlier is not None:
            return tickets.Filed(earlier, False)
    if channel not in CHANNELS:
        raise Invalid(N_("Choose one of the channels offered."), field="channel")
    if language is not None and language not in LANGUAGES:
        raise Invalid(N_("Choose one of the languages offered."), field="language")
    customer = _customer(session, customer_id, new_name, new_email, now=now)
    return tickets.create_ticket(
        session, requester=customer, subject=subject, description=description, category=category,
        priority=priority, language=language, default_language=default_language, channel=channel,
        client_token=client_token, field_values=field_values, actor=actor, now=now,
    )


def _customer(session: Session, customer_id: int | None, new_name: str, new_email: str, *, now: datetime) -> User:
    if customer_id is not None:
        customer = session.get(User, customer_id)
        if customer is None or customer.role != "customer" or not customer.active:
            raise Invalid(N_("Choose a customer from the list, or create one."), field="customer")
        return customer
    name, email = " ".join((new_name or "").split()), accounts.normalise_email(new_email or "")
    if not name and not email:
        raise Invalid(N_("Choose a customer from the list, or create one."), field="customer")
    if not name:
        raise Invalid(N_("A name is required."), field="new_name")
    if len(email) > 254 or not EMAIL.match(email):
        raise Invalid(N_("Enter a valid e-mail address."), field="new_email")
    if accounts.find_by_email(session, email) is not None:
        raise Invalid(N_("An account with this e-mail already exists."), field="new_email")
    customer = accounts.create_user(session, email=email, name=name[:120], password=None, now=now)
    customer.verified = False
    return customer


def _require_agent(actor: User) -> None:
    if not actor.is_agent:
        raise NotFound(N_("We could not find that page."))
