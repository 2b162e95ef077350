"""The dashboard as named tables: one per figure, the same rows for the page's data tables and for CSV.

Titles and column headings are message ids (the web layer translates them). A column's kind says how to
show a value (`minutes`, `percent`, `datetime` ...); CSV writes the raw value. A row may carry the agent
queue's query arguments that list the tickets behind its count (`links`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from portal.errors import N_, Invalid
from portal.services import report_period, reports
from portal.services.report_selfservice import SelfService, self_service

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.models import User

STATUS_NAMES = {"new": N_("New"), "open": N_("Open"), "pending": N_("Pending"), "on_hold": N_("On hold")}


@dataclass
class Column:
    heading: str
    kind: str = "int"  # int, number, text, label (a message id), minutes, percent, datetime, date, ref, status ...


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[tuple] = field(default_factory=list)
    links: list[dict[str, str] | None] = field(default_factory=list)  # agent queue arguments, per row


@dataclass
class Dashboard:
    period: reports.Period
    filters: reports.ReportFilters
    now_figures: reports.Snapshot
    period_figures: report_period.PeriodFigures
    self_service: SelfService
    tables: dict[str, Table]


def build(session: Session, *, actor: User, period: reports.Period, filters: reports.ReportFilters,
          now: datetime) -> Dashboard:
    snap = reports.snapshot(session, actor=actor, filters=filters, now=now)
    figures = report_period.period_figures(session, actor=actor, period=period, filters=filters, now=now)
    kb = self_service(session, period=period, language=filters.language, now=now)
    tables = _now_tables(snap, filters) + _period_tables(figures) + _kb_tables(kb)
    return Dashboard(period, filters, snap, figures, kb, {t.name: t for t in tables})


def table(dashboard: Dashboard, name: str) -> Table:
    if name not in dashboard.tables:
        raise Invalid(N_("There is no figure called %(name)s."), field="figure", name=name[:40])
    return dashboard.tables[name]


def queue_args(filters: reports.ReportFilters, **extra: object) -> dict[str, str]:
    """The agent queue's arguments for the same filters (the queue has no category or date filter)."""
    args = {"view": "open", "group": filters.group, "assignee": filters.agent, "channel": filters.channel,
            "language": filters.language, "priority": filters.priority, **extra}
    return {key: str(value) for key, value in args.items() if value not in (None, "")}


def _now_tables(snap: reports.Snapshot, filters: reports.ReportFilters) -> list[Table]:
    backlog = Table("backlog", N_("Backlog now"), [Column(N_("Measure"), "label"), Column(N_("Tickets"))])
    for label, value, link in (
        (N_("Open backlog"), snap.backlog, queue_args(filters)),
        (N_("Unassigned"), snap.unassigned, queue_args(filters, view="unassigned", assignee=None)),
        (N_("SLA breached"), snap.breached, queue_args(filters, sort="sla")),
        (N_("SLA due within an hour"), snap.due_soon, queue_args(filters, sort="sla")),
    ):
        backlog.rows.append((label, value))
        backlog.links.append(link)
    by_status = Table("backlog_status", N_("Backlog by status"),
                      [Column(N_("Status"), "status"), Column(N_("Tickets"))])
    for status, count in snap.by_status.items():
        by_status.rows.append((status, count))
        by_status.links.append(queue_args(filters, status=status))
    by_group = Table("backlog_group", N_("Backlog by group"), [Column(N_("Group"), "group"), Column(N_("Tickets"))])
    for group_id, name, count in snap.by_group:
        by_group.rows.append((name, count))
        by_group.links.append(queue_args(filters, group=group_id) if group_id else None)
    at_risk = Table("sla_at_risk", N_("Breaching or about to breach"),
                    [Column(N_("Ticket"), "ref"), Column(N_("Subject"), "text"), Column(N_("Due"), "datetime")],
                    [(t.ref, t.subject, t.sla_due_at) for t in snap.at_risk])
    oldest = Table("oldest_open", N_("Oldest open tickets"),
                   [Column(N_("Ticket"), "ref"), Column(N_("Subject"), "text"), Column(N_("Created"), "datetime")],
                   [(t.ref, t.subject, t.created_at) for t in snap.oldest])
    return [backlog, by_status, by_group, at_risk, oldest]


def _period_tables(f: report_period.PeriodFigures) -> list[Table]:
    daily = Table("daily", N_("Tickets created and solved per day"),
                  [Column(N_("Day"), "date"), Column(N_("Created")), Column(N_("Solved"))],
                  [(day, f.created_per_day[day], f.solved_per_day[day]) for day in f.period.days])
    times = Table("response_times", N_("Response times"),
                  [Column(N_("Measure"), "label"), Column(N_("Median"), "minutes"),
                   Column(N_("90th percentile"), "minutes"), Column(N_("Tickets"))],
                  [(N_("First reply time"), f.first_reply.median, f.first_reply.p90, f.first_reply.count),
                   (N_("Resolution time"), f.resolution.median, f.resolution.p90, f.resolution.count)])
    sla = Table("sla", N_("SLA compliance"),
                [Column(N_("Target"), "label"), Column(N_("Met")), Column(N_("Measured")),
                 Column(N_("Compliance"), "percent")],
                [(N_("First reply"), f.sla_first_reply.met, f.sla_first_reply.measured, f.sla_first_reply.rate),
                 (N_("Resolution"), f.sla_resolution.met, f.sla_resolution.measured, f.sla_resolution.rate)])
    quality = Table("quality", N_("Quality"),
                    [Column(N_("Measure"), "label"), Column(N_("Tickets")), Column(N_("Out of")),
                     Column(N_("Rate"), "percent")],
                    [(N_("Reopened"), f.reopened, f.solved, f.reopen_rate),
                     (N_("Solved with one reply"), f.one_touch, f.solved, f.one_touch_rate),
                     (N_("Rated good"), f.good, f.ratings, f.csat)])
    comments = Table("csat_comments", N_("Latest satisfaction comments"),
                     [Column(N_("Ticket"), "ref"), Column(N_("Rating"), "rating"), Column(N_("Comment"), "text"),
                      Column(N_("When"), "datetime")],
                     [(c.ref, c.rating, c.comment, c.at) for c in f.comments])
    agents = Table("agents", N_("Agents"),
                   [Column(N_("Agent"), "text"), Column(N_("Solved")), Column(N_("Replies")),
                    Column(N_("Median first reply"), "minutes"), Column(N_("Satisfaction"), "percent"),
                    Column(N_("Ratings"))],
                   [(a.name, a.solved, a.replies, a.first_reply, a.csat, a.good + a.bad) for a in f.agents],
                   [{"view": "solved", "assignee": str(a.agent_id)} for a in f.agents])
    return [daily, times, sla, quality, comments, agents]


def _kb_tables(kb: SelfService) -> list[Table]:
    summary = Table("self_service", N_("Self-service"), [Column(N_("Measure"), "label"), Column(N_("Value"), "number")],
                    [(N_("Knowledge-base searches"), kb.searches), (N_("Article views"), kb.views),
                     (N_("Deflections"), kb.deflections),
                     (N_("Tickets filed after seeing suggestions"), kb.filed_after_suggestions),
                     (N_("Tickets created"), kb.tickets),
                     (N_("Self-service score (article views per ticket)"),
                      round(kb.score, 2) if kb.score is not None else None),
                     (N_("Deflection rate"), _percent(kb.deflection_rate))])

    def counted(name: str, title: str, first: str, rows, kind: str = "text") -> Table:
        return Table(name, title, [Column(first, kind), Column(N_("Count"))], list(rows))

    helpful = Table("most_helpful", N_("Most helpful articles"),
                    [Column(N_("Article"), "article"), Column(N_("Helpful")), Column(N_("Not helpful"))],
                    list(kb.most_helpful))
    return [summary, counted("top_searches", N_("Top searches"), N_("Search"), kb.top_searches),
            counted("zero_result_searches", N_("Searches without results"), N_("Search"), kb.zero_result_searches),
            counted("most_viewed", N_("Most viewed articles"), N_("Article"), kb.most_viewed, "article"),
            helpful,
            counted("sent_articles", N_("Articles sent in replies"), N_("Article"), kb.sent_in_replies, "article")]


def _percent(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.1f}%"
