"""Every table, imported in one place so `Base.metadata` knows them all (Alembic reads it)."""

from portal.models.accounts import ROLES, Group, User, group_members
from portal.models.agent import (
    AGENT_NOTIFICATION_KINDS,
    AgentNotification,
    AgentNotificationPref,
    CannedResponse,
    SentArticle,
    TicketPresence,
)
from portal.models.api import ApiToken, IdempotencyKey
from portal.models.capture import DRAFT_STATES, ArticleDraft, ArticleRevision, SectionReview
from portal.models.catalog import FIELD_KINDS, Category, CustomField, TicketFieldValue
from portal.models.custom_statuses import CustomStatus
from portal.models.jobs import JobRun
from portal.models.kb import ArticleView, ArticleVote, SearchLog
from portal.models.macros import Macro
from portal.models.mail_in import INBOUND_OUTCOMES, InboundMail
from portal.models.notifications import NOTIFICATION_STATUSES, RATINGS, Notification, SatisfactionRating
from portal.models.reports import REPORT_INDEXES  # noqa: F401  (indexes on the tables above)
from portal.models.rules import RULE_CHANGES, Rule, RuleChange, RuleFiring
from portal.models.sla import PLANS, BusinessCalendar, Holiday, SlaPolicy
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
from portal.models.webhooks import (
    DELIVERY_STATUSES,
    WEBHOOK_EVENTS,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "DRAFT_STATES",
    "ArticleDraft",
    "ArticleRevision",
    "SectionReview",
    "PLANS",
    "RULE_CHANGES",
    "JobRun",
    "Macro",
    "Rule",
    "RuleChange",
    "RuleFiring",
    "BusinessCalendar",
    "CustomStatus",
    "Holiday",
    "SlaPolicy",
    "AGENT_NOTIFICATION_KINDS",
    "AgentNotification",
    "AgentNotificationPref",
    "CannedResponse",
    "SentArticle",
    "TicketPresence",
    "ArticleView",
    "ArticleVote",
    "SearchLog",
    "INBOUND_OUTCOMES",
    "InboundMail",
    "CHANNELS",
    "FIELD_KINDS",
    "NOTIFICATION_STATUSES",
    "PRIORITIES",
    "RATINGS",
    "ROLES",
    "ApiToken",
    "Attachment",
    "Category",
    "CustomField",
    "Deflection",
    "Group",
    "IdempotencyKey",
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
    "DELIVERY_STATUSES",
    "WEBHOOK_EVENTS",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
