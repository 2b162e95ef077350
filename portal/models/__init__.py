"""Every table, imported in one place so `Base.metadata` knows them all (Alembic reads it)."""

from portal.models.accounts import ROLES, Group, User, group_members
from portal.models.tickets import CHANNELS, PRIORITIES, Attachment, Message, Ticket, TicketEvent, TicketTag

__all__ = [
    "CHANNELS",
    "PRIORITIES",
    "ROLES",
    "Attachment",
    "Group",
    "Message",
    "Ticket",
    "TicketEvent",
    "TicketTag",
    "User",
    "group_members",
]
