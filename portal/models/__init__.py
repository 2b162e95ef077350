"""Every table, imported in one place so `Base.metadata` knows them all (Alembic reads it)."""

from portal.models.accounts import ROLES, Group, User, group_members
from portal.models.catalog import FIELD_KINDS, Category, CustomField, TicketFieldValue
from portal.models.kb import ArticleView, ArticleVote, SearchLog
from portal.models.notifications import NOTIFICATION_STATUSES, RATINGS, Notification, SatisfactionRating
from portal.models.tickets import (
    CHANNELS,
    PRIORITIES,
    Attachment,
    Deflection,
    Message,
    Ticket,
    TicketCC,
    TicketEvent,
    TicketRead,
    TicketTag,
)

__all__ = [
    "ArticleView",
    "ArticleVote",
    "SearchLog",
    "CHANNELS",
    "FIELD_KINDS",
    "NOTIFICATION_STATUSES",
    "PRIORITIES",
    "RATINGS",
    "ROLES",
    "Attachment",
    "Category",
    "CustomField",
    "Deflection",
    "Group",
    "Message",
    "Notification",
    "SatisfactionRating",
    "Ticket",
    "TicketCC",
    "TicketEvent",
    "TicketFieldValue",
    "TicketRead",
    "TicketTag",
    "User",
    "group_members",
]
