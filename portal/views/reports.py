"""The support dashboard: `/agent/reports`.

- `GET /agent/reports?period=30&group=…`: the page; with `HX-Request` only its figures (`reports/_figures.html`,
  which the page includes and htmx refreshes every 60 s).
- `…&format=csv&figure=<name>`: one figure as CSV, the same rows as its data table.

Bad input (an unknown period, unreadable dates, a filter that is not a number) gets the page back with the
message and status 422; nothing is computed from it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Blueprint, Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.clock import utcnow
from portal.errors import Invalid
from portal.extensions import db_session
from portal.services import report_rollup, report_tables, reports
from portal.views.access import agent_required
from portal.views.csv_export import csv_response
from portal.views.errors import translate_domain_message
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.kb_access import articles_by_path
from portal.views.when import csv_time

bp = Blueprint("reports", __name__, url_prefix="/agent/reports")


def init_app(app: Flask) -> None:
    """Ticket changes committed through the app's sessions keep the dashboard's rollup current."""
    report_rollup.watch(app.extensions["sessionmaker"])


@bp.get("")
@agent_required
def dashboard() -> Response:
    session, me, now = db_session(), current_user._get_current_object(), utcnow()
    wants_csv = request.args.get("format") == "csv"
    try:
        period = reports.parse_period(request.args.get("period"), request.args.get("from"),
                                      request.args.get("to"), now=now)
        filters = reports.parse_filters(request.args)
        board = report_tables.build(session, actor=me, period=period, filters=filters, now=now)
        if wants_csv:
            return _csv(report_tables.table(board, request.args.get("figure", "")), period)
    except Invalid as exc:
        message = translate_domain_message(exc) or _("Check the period and the filters.")
        if wants_csv:
            return Response(message + "\n", status=422, mimetype="text/plain")
        return vary_on_htmx(Response(_render("reports/report.html", board=None, error=message, now=now,
                                             choices=reports.filter_choices(session, me)), status=422))
    if is_htmx() and request.headers.get("HX-Target") == "report-figures":
        return vary_on_htmx(Response(_render("reports/_figures.html", board=board, now=now)))
    return vary_on_htmx(Response(_render("reports/report.html", board=board, error=None, now=now,
                                         choices=reports.filter_choices(session, me))))


def _render(template: str, **context: object) -> str:
    board = context.get("board")
    # Article columns hold paths; the page names them by title, all read at once.
    paths = [row[i] for t in board.tables.values() for i, c in enumerate(t.columns) if c.kind == "article"
             for row in t.rows] if board is not None else []
    return render_template(template, args=_current_args(), articles=articles_by_path(paths), **context)


def _current_args() -> dict[str, str]:
    """The page's query (period and filters) without the export arguments: links and exports keep it."""
    return {k: v for k, v in request.args.items() if k not in ("format", "figure") and v != ""}


@bp.app_template_global("report_query")
def report_query(**changes: str) -> dict[str, str]:
    return {**_current_args(), **changes}


def _csv(table: report_tables.Table, period: reports.Period) -> Response:
    """Through `csv_export`, which makes any text a spreadsheet would run as a formula inert."""
    rows = [[_(column.heading) for column in table.columns]]
    rows += [[_csv_value(value, column.kind) for value, column in zip(row, table.columns, strict=True)]
             for row in table.rows]
    return csv_response(rows, filename=f"{table.name}-{period.first.isoformat()}-{period.last.isoformat()}.csv")


def _csv_value(value: object, kind: str) -> object:
    """Raw values: minutes with one decimal, rates as percentages, ISO times; labels translated. Figures stay
    numbers (Decimal keeps the one decimal), so the export leaves them alone; everything else is text."""
    if value is None:
        return ""
    if kind == "minutes":
        return Decimal(f"{value:.1f}")
    if kind == "percent":
        return Decimal(f"{value * 100:.1f}")
    if isinstance(value, datetime):
        return csv_time(value)  # the portal's time zone, as on the page
    if isinstance(value, date):
        return value.isoformat()
    if kind == "label":
        return _(value)
    if kind == "status":
        return _(report_tables.STATUS_NAMES.get(value, value))
    if kind == "rating":
        return _("Good") if value == "good" else _("Bad")
    return value


@bp.app_template_global("report_minutes")
def report_minutes(value: float | None) -> str:
    """A duration as people read it: 45 min, 3 h 05 min, 2 d 4 h."""
    if value is None:
        return "—"
    minutes = round(value)
    if minutes < 60:
        return _("%(minutes)s min", minutes=minutes)
    if minutes < 24 * 60:
        return _("%(hours)s h %(minutes)s min", hours=minutes // 60, minutes=f"{minutes % 60:02d}")
    return _("%(days)s d %(hours)s h", days=minutes // (24 * 60), hours=minutes % (24 * 60) // 60)


@bp.app_template_global("report_percent")
def report_percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


@bp.app_template_global("report_status_label")
def report_status_label(status: str) -> str:
    return _(report_tables.STATUS_NAMES.get(status, status))
