"""Rules administration (`/admin/rules`): the rules in the order they run, with their firings of the last 7 days,
switched on and off, duplicated, moved, deleted; export and import as JSON; the audit trail. The editor is in
`admin_rules_editor`. Customers get 404 like every staff page; agents reach the services, which refuse them (403)."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from portal.clock import utcnow
from portal.errors import Invalid
from portal.extensions import db_session
from portal.models import User
from portal.services.rules import admin_queries, catalog, manage
from portal.views.access import agent_required
from portal.views.errors import translate_domain_message
from portal.views.input_bounds import query_int
from portal.views.rule_summary import reason_text, summarise

bp = Blueprint("admin_rules", __name__, url_prefix="/admin")

CHANGE_LABELS = {
    "created": _l("Created"),
    "updated": _l("Edited"),
    "enabled": _l("Switched on"),
    "disabled": _l("Switched off"),
    "deleted": _l("Deleted"),
    "reordered": _l("Moved"),
    "imported": _l("Imported"),
    "duplicated": _l("Created as a copy"),
    "installed": _l("Installed with Mesa"),
}
IMPORT_MODES = {"add": _l("Add them after the existing rules"),
                "replace": _l("Replace all existing rules with the file's")}
AUDIT_PAGE_SIZE = 50
IMPORT_MAX_BYTES = 2 * 1024 * 1024  # 500 rules at their largest fit well within it


class PlainForm(FlaskForm):
    """The buttons' forms: only the CSRF token."""


def me() -> User:
    return current_user._get_current_object()


def lang() -> str:
    return str(get_locale() or "en")


def choices() -> dict:
    """The names the editor offers for ids (groups, agents ...); also how ids read on the list and in the trail."""
    return admin_queries.editor_choices(db_session(), actor=me(), lang=lang())


@bp.app_template_global("rule_reason")
def rule_reason(item: object) -> str:
    """A switched-off rule's reason, or an audit-trail entry's, in the reader's language."""
    if isinstance(item, dict):  # an audit snapshot
        return reason_text(item.get("code"), item.get("params"), item.get("reason"))
    return reason_text(getattr(item, "disabled_code", None), getattr(item, "disabled_params", None),
                       getattr(item, "disabled_reason", None))


def _back_to_list(message: str, rule_id: int | None = None) -> Response:
    db_session().commit()
    flash(message, "success")
    anchor = f"#rule-{rule_id}" if rule_id else ""
    return redirect(url_for("admin_rules.index") + anchor, 303)


# ---- The list -----------------------------------------------------------------------------------------------


@bp.get("/rules")
@agent_required
def index() -> str:
    session = db_session()
    rules = manage.list_rules(session, actor=me())
    names = choices()
    return render_template(
        "admin_rules/index.html", rules=rules, sections=[
            ("triggers", _("Triggers"), _("Run when something happens to a ticket, from the top of the list down."),
             [r for r in rules if r.kind != "automation"]),
            ("automations", _("Automations"), _("Checked every hour over the tickets that are not closed: each "
                                                 "ticket whose conditions hold gets the actions."),
             [r for r in rules if r.kind == "automation"])],
        summaries={r.id: summarise(r, names) for r in rules},
        counts=manage.firing_counts(session, actor=me(), now=utcnow()), action_form=PlainForm(formdata=None),
        switched_off=[r for r in rules if not r.enabled and r.disabled_reason],
        installed=manage.installed_with_mesa(session, actor=me()),
    )


@bp.post("/rules/<int:rule_id>/enabled")
@agent_required
def set_enabled(rule_id: int) -> Response:
    rule = manage.get_rule(db_session(), rule_id, actor=me())
    enabled = request.form.get("enabled") == "1"
    manage.set_enabled(db_session(), rule, enabled, actor=me(), now=utcnow())
    message = (_("Rule “%(name)s” switched on.", name=rule.name) if enabled
               else _("Rule “%(name)s” switched off: it does nothing until you switch it on.", name=rule.name))
    return _back_to_list(message, rule.id)


@bp.post("/rules/<int:rule_id>/duplicate")
@agent_required
def duplicate(rule_id: int) -> Response:
    rule = manage.get_rule(db_session(), rule_id, actor=me())
    copy = manage.duplicate_rule(db_session(), rule, actor=me(), now=utcnow())
    db_session().commit()
    flash(_("Copy “%(name)s” made, switched off. Change it, then switch it on.", name=copy.name), "success")
    return redirect(url_for("admin_rules_editor.edit", rule_id=copy.id), 303)


@bp.post("/rules/<int:rule_id>/move")
@agent_required
def move(rule_id: int) -> Response:
    rule = manage.get_rule(db_session(), rule_id, actor=me())
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        direction = None
    manage.move_rule(db_session(), rule, direction=direction, to=request.form.get("to"), actor=me(), now=utcnow())
    return _back_to_list(_("Rule “%(name)s” now runs in place %(place)s.", name=rule.name, place=rule.position),
                         rule.id)


@bp.get("/rules/<int:rule_id>/delete")
@agent_required
def confirm_delete(rule_id: int) -> str:
    rule = manage.get_rule(db_session(), rule_id, actor=me())
    return render_template("admin_rules/delete.html", rule=rule, summary=summarise(rule, choices()),
                           action_form=PlainForm(formdata=None))


@bp.post("/rules/<int:rule_id>/delete")
@agent_required
def delete(rule_id: int) -> Response:
    rule = manage.get_rule(db_session(), rule_id, actor=me())
    name = rule.name
    manage.delete_rule(db_session(), rule, actor=me(), now=utcnow())
    return _back_to_list(_("Rule “%(name)s” deleted. The audit trail keeps what it was.", name=name))


# ---- Export and import --------------------------------------------------------------------------------------


@bp.get("/rules/export")
@agent_required
def export() -> Response:
    rules = manage.export_rules(db_session(), actor=me())
    body = json.dumps(rules, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="mesa-rules-{date.today().isoformat()}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/rules/import", methods=["GET", "POST"])
@agent_required
def import_rules() -> Response | str | tuple[str, int]:
    manage.list_rules(db_session(), actor=me())  # the same refusal as every rules page, before reading a file
    if request.method == "GET":
        return render_template("admin_rules/import.html", form=PlainForm(formdata=None), modes=IMPORT_MODES,
                               mode="add", problems=[], error=None)
    mode = request.form.get("mode") if request.form.get("mode") in IMPORT_MODES else "add"
    data, error = _read_upload()
    problems: list[tuple[str, str]] = []
    if error is None:
        try:
            imported = manage.import_rules(db_session(), data, mode=mode, actor=me(), now=utcnow())
        except Invalid as exc:
            db_session().rollback()
            error = translate_domain_message(exc) if not exc.details.get("errors") else _(
                "Nothing was imported: the file has the problems below. Correct them and import it again.")
            problems = import_problems(exc.details.get("errors") or {}, data)
        else:
            return _back_to_list(_("%(count)s rules imported.", count=len(imported)))
    page = render_template("admin_rules/import.html", form=PlainForm(formdata=None), modes=IMPORT_MODES, mode=mode,
                           problems=problems, error=error)
    return page, 422


def _read_upload() -> tuple[object, str | None]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None, _("Choose the JSON file to import (one you exported from Mesa).")
    raw = upload.stream.read(IMPORT_MAX_BYTES + 1)
    if len(raw) > IMPORT_MAX_BYTES:
        return None, _("The file is larger than %(mb)s MB: that is not an export of rules.",
                       mb=IMPORT_MAX_BYTES // (1024 * 1024))
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        return None, _("The file is not valid JSON%(where)s: nothing was imported.", where=where)
    if isinstance(data, dict) and isinstance(data.get("rules"), list):
        data = data["rules"]
    return data, None


LIST_LABELS = {"conditions_all": _l("Conditions (all of these)"), "conditions_any": _l("Conditions (any of these)"),
               "actions": _l("Actions")}
PART_LABELS = {"name": _l("Name"), "events": _l("When"), "enabled": _l("On or off"), "field": _l("field"),
               "op": _l("operator"), "value": _l("value"), "type": _l("action"), "rule": _l("the rule")}


def place_of(key: str) -> str:
    """"conditions_all.2.value" → "Conditions (all of these), row 3, value"."""
    parts = key.split(".")
    words = []
    if parts[0] in LIST_LABELS:
        words.append(str(LIST_LABELS[parts[0]]))
        if len(parts) > 1 and parts[1].isdigit():
            words.append(_("row %(number)s", number=int(parts[1]) + 1))
        parts = parts[2:]
    for part in parts:
        if part in PART_LABELS:
            words.append(str(PART_LABELS[part]))
            continue
        message_id = next((p.label for a in catalog.ACTION_TYPES.values() for p in a.params if p.name == part), None)
        words.append(_(message_id) if message_id else part)
    return ", ".join(words)


def import_problems(errors: dict, data: object) -> list[tuple[str, str]]:
    """Each problem as (where, what): "Rule 4 “VIP routing” — Actions, row 1, value", "Choose one of ..."."""
    problems = []
    for key, problem in errors.items():
        where = ""
        parts = key.split(".", 2)
        if parts[0] == "rules" and len(parts) > 1 and parts[1].isdigit():
            number = int(parts[1])
            item = data[number] if isinstance(data, list) and number < len(data) else None
            name = item.get("name") if isinstance(item, dict) and isinstance(item.get("name"), str) else ""
            where = (_("Rule %(number)s “%(name)s”", number=number + 1, name=name[:80]) if name
                     else _("Rule %(number)s", number=number + 1))
            if len(parts) > 2:
                where += " — " + place_of(parts[2])
        problems.append((where, problem.text(_)))
    return problems


# ---- The audit trail ----------------------------------------------------------------------------------------


@bp.get("/rules/changes")
@agent_required
def changes() -> str:
    page = admin_queries.changes_page(db_session(), actor=me(), page=query_int("page", 1) or 1,
                                      per_page=AUDIT_PAGE_SIZE)
    names = choices()
    summaries = {c.id: summarise(c.snapshot, names) for c in page.items if c.snapshot and "events" in c.snapshot}
    return render_template("admin_rules/changes.html", changes=page, summaries=summaries,
                           change_labels=CHANGE_LABELS)
