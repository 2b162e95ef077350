"""The dashboard as named tables: one per figure, the same rows for the page's data tables and for CSV.

Titles and column headings are message ids (the web layer translates them). A column's kind says how to
show a value (`minutes`, `percent`, `datetime` ...); CSV writes the raw value. A cell may carry the agent
queue's query arguments that list exactly the tickets behind it (`links`): the tickets a count counts, or
the tickets a median or a rate is computed over. The queue reads the same definitions (docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
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


@dataclass(frozen=True)
class Link:
    """The agent queue's arguments that list the tickets behind a figure, and, for a median or a rate, how
    many tickets it is computed over (None: the figure is that count)."""

    args: dict[str, str]
    tickets: int | None = None


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[tuple] = field(default_factory=list)
    links: list[dict[int, Link]] = field(default_factory=list)  # per row: column number -> its link


@dataclass
class Dashboard:
    period: reports.Period
    filters: reports.ReportFilters
    now_figures: reports.Snapshot
    period_figures: report_period.PeriodFigures
    self_service: SelfService
    tables: dict[str, Table]
    links: dict[str, Link] = field(default_factory=dict)  # the headline figures' links, by name


def build(session: Session, *, actor: User, period: reports.Period, filters: reports.ReportFilters,
          now: datetime) -> Dashboard:
    snap = reports.snapshot(session, actor=actor, filters=filters, now=now)
    figures = report_period.period_figures(session, actor=actor, period=period, filters=filters, now=now)
    kb = self_service(session, period=period, language=filters.language, now=now)
    q = QueueLinks(filters, scoped=not actor.is_admin, period=period)
    tables = _now_tables(snap, q) + _period_tables(figures, q) + _kb_tables(kb, q)
    f = figures
    links = {"created": Link(q.created()), "solved": Link(q.solved()), "ratings": Link(q.rated())}
    if f.first_reply.count:  # a median or a rate over no ticket shows "—", and links nowhere
        links["first_reply"] = Link(q.created(measure="replied"), f.first_reply.count)
    if f.resolution.count:
        links["resolution"] = Link(q.solved(), f.resolution.count)
    if f.ratings:
        links["csat"] = Link(q.rated(), f.ratings)
    return Dashboard(period, filters, snap, figures, kb, {t.name: t for t in tables}, links)


def table(dashboard: Dashboard, name: str) -> Table:
    if name not in dashboard.tables:
        raise Invalid(N_("There is no figure called %(name)s."), field="figure", name=name[:40])
    return dashboard.tables[name]


class QueueLinks:
    """The agent queue's arguments for the tickets a figure counts: the report's filters, the actor's scope (the
    queue shows every agent everyone's tickets unless told `scope=mine`), and for a period figure its days and
    the view of every status. Each list is sorted in the order of the index its days are a range of: created
    by age, solved by solution time (ratings come after a solution, so rated lists too)."""

    def __init__(self, filters: reports.ReportFilters, *, scoped: bool, period: reports.Period) -> None:
        self.filters, self.period = filters, period
        self.base = {"scope": "mine" if scoped else None, "group": filters.group, "assignee": filters.agent,
                     "channel": filters.channel, "category": filters.category, "language": filters.language,
                     "priority": filters.priority}

    def now(self, **extra: object) -> dict[str, str]:
        return _args({"view": "open", **self.base, **extra})

    def created(self, first: date | None = None, last: date | None = None, **extra: object) -> dict[str, str]:
        return self._days("created", first, last, **extra)

    def solved(self, first: date | None = None, last: date | None = None, **extra: object) -> dict[str, str]:
        return self._days("solved", first, last, **extra)

    def rated(self, **extra: object) -> dict[str, str]:
        return self._days("rated", None, None, **extra)

    def _days(self, what: str, first: date | None, last: date | None, **extra: object) -> dict[str, str]:
        first, last = first or self.period.first, last or self.period.last
        return _args({"view": "all", "sort": "age" if what == "created" else "solved", **self.base,
                      f"{what}_from": first.isoformat(), f"{what}_to": last.isoformat(), **extra})

    def for_agent(self, agent_id: int) -> bool:
        """A per-agent figure has a list unless the report is filtered on another agent (its figure is then
        about that other agent's tickets)."""
        return self.filters.agent in (None, agent_id)


def _args(args: dict[str, object]) -> dict[str, str]:
    return {key: str(value) for key, value in args.items() if value not in (None, "")}


def _now_tables(snap: reports.Snapshot, q: QueueLinks) -> list[Table]:
    backlog = Table("backlog", N_("Backlog now"), [Column(N_("Measure"), "label"), Column(N_("Tickets"))])
    for label, value, link in (
        (N_("Open backlog"), snap.backlog, q.now()),
        (N_("Unassigned"), snap.unassigned, q.now(view="unassigned")),
        (N_("SLA breached"), snap.breached, q.now(sla="breached", sort="sla")),
        (N_("SLA due within an hour"), snap.due_soon, q.now(sla="due_soon", sort="sla")),
    ):
        backlog.rows.append((label, value))
        backlog.links.append({1: Link(link)})
    by_status = Table("backlog_status", N_("Backlog by status"),
                      [Column(N_("Status"), "status"), Column(N_("Tickets"))])
    for status, count in snap.by_status.items():
        by_status.rows.append((status, count))
        by_status.links.append({1: Link(q.now(status=status))})
    by_group = Table("backlog_group", N_("Backlog by group"), [Column(N_("Group"), "group"), Column(N_("Tickets"))])
    for group_id, name, count in snap.by_group:
        by_group.rows.append((name, count))
        by_group.links.append({1: Link(q.now(group=group_id or "none"))})
    at_risk = Table("sla_at_risk", N_("Breaching or about to breach"),
                    [Column(N_("Ticket"), "ref"), Column(N_("Subject"), "text"), Column(N_("Due"), "datetime")],
                    [(t.ref, t.subject, t.sla_due_at) for t in snap.at_risk])
    oldest = Table("oldest_open", N_("Oldest open tickets"),
                   [Column(N_("Ticket"), "ref"), Column(N_("Subject"), "text"), Column(N_("Created"), "datetime")],
                   [(t.ref, t.subject, t.created_at) for t in snap.oldest])
    return [backlog, by_status, by_group, at_risk, oldest]


def _period_tables(f: report_period.PeriodFigures, q: QueueLinks) -> list[Table]:
    daily = Table("daily", N_("Tickets created and solved per day"),
                  [Column(N_("Day"), "date"), Column(N_("Created")), Column(N_("Solved"))],
                  [(day, f.created_per_day[day], f.solved_per_day[day]) for day in f.period.days],
                  [{1: Link(q.created(day, day)), 2: Link(q.solved(day, day))} for day in f.period.days])

    def over(args: dict[str, str], count: int, met: dict[str, str] | None = None) -> dict[int, Link]:
        """A row of (part, whole, rate): the part's tickets, then the whole's, which the rate is over."""
        return {**({1: Link(met)} if met else {}), 2: Link(args), 3: Link(args, count)}

    replied = q.created(measure="replied")
    times = Table("response_times", N_("Response times"),
                  [Column(N_("Measure"), "label"), Column(N_("Median"), "minutes"),
                   Column(N_("90th percentile"), "minutes"), Column(N_("Tickets"))],
                  [(N_("First reply time"), f.first_reply.median, f.first_reply.p90, f.first_reply.count),
                   (N_("Resolution time"), f.resolution.median, f.resolution.p90, f.resolution.count)],
                  [{1: Link(replied, f.first_reply.count), 2: Link(replied, f.first_reply.count), 3: Link(replied)},
                   {1: Link(q.solved(), f.resolution.count), 2: Link(q.solved(), f.resolution.count),
                    3: Link(q.solved())}])
    sla = Table("sla", N_("SLA compliance"),
                [Column(N_("Target"), "label"), Column(N_("Met")), Column(N_("Measured")),
                 Column(N_("Compliance"), "percent")],
                [(N_("First reply"), f.sla_first_reply.met, f.sla_first_reply.measured, f.sla_first_reply.rate),
                 (N_("Resolution"), f.sla_resolution.met, f.sla_resolution.measured, f.sla_resolution.rate)],
                [over(q.created(measure="first_reply_measured"), f.sla_first_reply.measured,
                      q.created(measure="first_reply_met")),
                 over(q.solved(measure="resolution_measured"), f.sla_resolution.measured,
                      q.solved(measure="resolution_met"))])
    quality = Table("quality", N_("Quality"),
                    [Column(N_("Measure"), "label"), Column(N_("Tickets")), Column(N_("Out of")),
                     Column(N_("Rate"), "percent")],
                    [(N_("Reopened"), f.reopened, f.solved, f.reopen_rate),
                     (N_("Solved with one reply"), f.one_touch, f.solved, f.one_touch_rate),
                     (N_("Rated good"), f.good, f.ratings, f.csat)],
                    [over(q.solved(), f.solved, q.solved(measure="reopened")),
                     over(q.solved(), f.solved, q.solved(measure="one_touch")),
                     over(q.rated(), f.ratings, q.rated(rating="good"))])
    comments = Table("csat_comments", N_("Latest satisfaction comments"),
                     [Column(N_("Ticket"), "ref"), Column(N_("Rating"), "rating"), Column(N_("Comment"), "text"),
                      Column(N_("When"), "datetime")],
                     [(c.ref, c.rating, c.comment, c.at) for c in f.comments])
    agents = Table("agents", N_("Agents"),
                   [Column(N_("Agent"), "text"), Column(N_("Solved")), Column(N_("Replies")),
                    Column(N_("Median first reply"), "minutes"), Column(N_("Satisfaction"), "percent"),
                    Column(N_("Ratings"))],
                   [(a.name, a.solved, a.replies, a.first_reply, a.csat, a.good + a.bad) for a in f.agents],
                   [_agent_links(a, q) for a in f.agents])
    return [daily, times, sla, quality, comments, agents]


def _agent_links(a: report_period.AgentRow, q: QueueLinks) -> dict[int, Link]:
    """Solved, median first reply, satisfaction and ratings; not the replies, which count messages (one ticket
    can have many)."""
    if not q.for_agent(a.agent_id):
        return {}
    rated = q.rated(assignee=a.agent_id)
    return {1: Link(q.solved(assignee=a.agent_id)),
            3: Link(q.created(measure="replied", assignee=a.agent_id), a.first_replies),
            4: Link(rated, a.good + a.bad), 5: Link(rated)}


def _kb_tables(kb: SelfService, q: QueueLinks) -> list[Table]:
    # Everyone's tickets in the language, as the self-service figures count them (the other filters and the
    # agent's scope do not apply to them).
    created = _args({"view": "all", "sort": "age", "created_from": q.period.first.isoformat(),
                     "created_to": q.period.last.isoformat(), "language": q.filters.language})
    summary = Table("self_service", N_("Self-service"), [Column(N_("Measure"), "label"), Column(N_("Value"), "number")],
                    [(N_("Knowledge-base searches"), kb.searches), (N_("Article views"), kb.views),
                     (N_("Deflections"), kb.deflections),
                     (N_("Tickets filed after seeing suggestions"), kb.filed_after_suggestions),
                     (N_("Tickets created"), kb.tickets),
                     (N_("Self-service score (article views per ticket)"),
                      round(kb.score, 2) if kb.score is not None else None),
                     (N_("Deflection rate"), _percent(kb.deflection_rate))],
                    [{}, {}, {}, {1: Link({**created, "measure": "after_suggestions"})}, {1: Link(created)}, {}, {}])

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
