"""The rule editor (`/admin/rules/new`, `/admin/rules/<id>`): one plain form that works without JavaScript.

Its buttons all post the whole form: "Save", "Add a condition", "Remove", "Show the choices for what I picked" and
"Test this rule" each draw the page again from what was posted, so nothing typed is lost on the way (not even
when the form's CSRF token is refused: the page comes back with the text and a fresh token, and nothing is saved).
With JavaScript, changing a row's field or action redraws that row alone (`GET /admin/rules/row`, htmx).
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from portal.clock import utcnow
from portal.errors import Conflict, Invalid, NotFound
from portal.extensions import db_session
from portal.models import Rule
from portal.services import tickets
from portal.services.rules import admin_queries, catalog, engine, manage
from portal.services.rules.validation import validate
from portal.views import rule_form
from portal.views.access import agent_required
from portal.views.admin_rules import CHANGE_LABELS, PlainForm, choices, me
from portal.views.errors import error_response
from portal.views.htmx import vary_on_htmx
from portal.views.rule_summary import condition_text, summarise

bp = Blueprint("admin_rules_editor", __name__, url_prefix="/admin")

HISTORY_SHOWN = 10


@bp.route("/rules/new", methods=["GET", "POST"])
@agent_required
def new() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return _page(rule_form.new_draft(request.args.get("kind")), None)
    return _submitted(None)


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@agent_required
def edit(rule_id: int) -> Response | str | tuple[str, int]:
    try:
        rule = manage.get_rule(db_session(), rule_id, actor=me())
    except NotFound:
        if request.method == "GET":
            raise
        # Deleted while the admin was editing it: their rule is kept, to be saved as a new one.
        draft = _posted_draft()
        draft.version = ""
        return _page(draft, None, notice=_("Someone deleted this rule while you were editing it. Your version is "
                                           "below: saving it creates the rule again."), status=409)
    if request.method == "GET":
        return _page(rule_form.from_rule(rule), rule)
    return _submitted(rule)


@bp.errorhandler(CSRFError)
def form_expired(exc: CSRFError) -> Response | str | tuple[str, int]:
    """CSRFProtect refused the editor's token (it checks every POST before the view runs): an admin gets the
    editor again with everything typed and a fresh token, nothing saved; anyone else the usual error page."""
    expired = _("Your form expired or was sent from elsewhere. Please try again.")
    editor = request.endpoint in ("admin_rules_editor.new", "admin_rules_editor.edit")
    if request.method != "POST" or not editor or not getattr(current_user, "is_admin", False):
        return error_response(400, expired, code="csrf_failed")
    rule = None
    if request.endpoint == "admin_rules_editor.edit":
        try:
            rule = manage.get_rule(db_session(), (request.view_args or {}).get("rule_id"), actor=me())
        except NotFound:
            return error_response(400, expired, code="csrf_failed")
    notice = f"{expired} {_('Nothing was saved: everything you typed is below.')}"
    return _page(_posted_draft(), rule, notice=notice, status=400)


def _posted_draft() -> rule_form.Draft:
    button = request.form.get("do", "save")
    target = button.partition(":")[2]
    return rule_form.from_form(request.form, remove=target if button.startswith("remove:") else None,
                               add=target if button.startswith("add:") else None)


def _submitted(rule: Rule | None) -> Response | str | tuple[str, int]:
    button = request.form.get("do", "save")
    draft = _posted_draft()
    if button == "test":
        return _test(draft, rule)
    if button != "save":  # adding, removing or redrawing rows: nothing is saved or checked yet
        return _page(draft, rule)
    return _save(draft, rule)


def _save(draft: rule_form.Draft, rule: Rule | None) -> Response | tuple[str, int]:
    session = db_session()
    try:
        if rule is None:
            saved = manage.create_rule(session, draft.data(), actor=me(), now=utcnow())
        else:
            saved = manage.update_rule(session, rule, draft.data(), expected_version=draft.version, actor=me(),
                                       now=utcnow())
    except Invalid as exc:
        session.rollback()
        return _page(draft, rule, errors=exc.details.get("errors") or {}, status=422)
    except Conflict:
        session.rollback()
        current = manage.get_rule(session, rule.id, actor=me())
        # Saving again now replaces their version with this one, knowingly: the page says so.
        draft.version = str(current.version)
        return _page(draft, current, conflict=current, status=409)
    session.commit()
    flash(_("Rule “%(name)s” saved.", name=saved.name) if rule else
          _("Rule “%(name)s” created. It runs after the rules above it.", name=saved.name), "success")
    return redirect(url_for("admin_rules.index") + f"#rule-{saved.id}", 303)


def _test(draft: rule_form.Draft, rule: Rule | None) -> str | tuple[str, int]:
    """A dry run of the rule as typed (saved or not) on one ticket: nothing is written."""
    session = db_session()
    ref = (request.form.get("test_ref") or "").strip() or request.form.get("test_ticket", "").strip()
    if not ref:
        return _page(draft, rule, test_error=_("Choose a recent ticket or type a ticket's reference."), status=422)
    try:
        ticket = tickets.get_for(session, ref[:40], actor=me())
    except NotFound:
        return _page(draft, rule, test_error=_("There is no ticket with the reference %(ref)s.", ref=ref[:40]),
                     status=422)
    data = draft.data()
    data["name"] = data["name"].strip() or "—"  # a rule can be tried before it has a name
    clean, errors = validate(session, data, existing_names=False)
    if errors:
        return _page(draft, rule, errors=errors, status=422,
                     test_error=_("Correct the marked fields first: a rule is tested as it would be saved."))
    explanation = engine.explain(session, clean, ticket, actor=me(), now=utcnow())
    session.rollback()  # a dry run: whatever it loaded stays unsaved
    return _page(draft, rule, test=_results(explanation, clean, ticket))


def _results(explanation: engine.Explanation, clean: dict, ticket) -> dict:
    names = choices()

    def checked(items: list[engine.Checked]) -> list[tuple[str, bool]]:
        return [(condition_text(c.condition, names), c.matched) for c in items]

    recipients = dict(catalog.RECIPIENT_CHOICES)
    changes = []
    for said in explanation.changes:
        if said.params.get("to") in recipients:  # "requester" → "the requester", in the admin's language
            said = replace(said, params={**said.params, "to": _(recipients[said.params["to"]]).lower()})
        changes.append(said.text(_))
    return {"ticket": ticket, "matches": explanation.matches, "enabled": clean["enabled"],
            "all": checked(explanation.conditions_all), "any": checked(explanation.conditions_any), "changes": changes}


def _page(draft: rule_form.Draft, rule: Rule | None, *, errors: dict | None = None, status: int = 200,
          notice: str | None = None, conflict: Rule | None = None, test: dict | None = None,
          test_error: str | None = None) -> str | tuple[str, int]:
    session = db_session()
    names = choices()
    context = {
        "draft": draft,
        "rule": rule,
        "rows": {key: rule_form.rows_of(draft, key, choices=names, errors=errors) for key in rule_form.LISTS},
        "errors": errors or {},
        "error_of": lambda key: rule_form.message(errors, key),
        "events": [(key, _(label)) for key, label in catalog.EVENTS.items()],
        "action": url_for("admin_rules_editor.edit", rule_id=rule.id) if rule else url_for("admin_rules_editor.new"),
        "notice": notice,
        "conflict": conflict,
        "conflict_summary": summarise(conflict, names) if conflict else None,
        "recent": admin_queries.recent_tickets(session, actor=me()),
        "test": test,
        "test_error": test_error,
        "test_ref": (request.form.get("test_ref") or "").strip()[:40],
        "test_ticket": request.form.get("test_ticket", ""),
        "history": manage.recent_changes(session, actor=me(), rule=rule, limit=HISTORY_SHOWN) if rule else [],
        "change_labels": CHANGE_LABELS,
        "csrf_form": PlainForm(formdata=None),
    }
    page = render_template("admin_rules/editor.html", **context)
    return (page, status) if status != 200 else page


@bp.get("/rules/row")
@agent_required
def row() -> Response:
    """One condition or action row drawn again for the field or action just chosen (htmx)."""
    drawn = rule_form.row_from_args(request.args, choices=choices())
    if drawn is None:
        abort(400)
    return vary_on_htmx(make_response(render_template("admin_rules/_row.html", row=drawn)))
