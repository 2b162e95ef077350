"""Administration of the support operation (`/admin`, admins only): groups and tiers, agents' skills and capacity,
customer plans, categories and their fields, SLA policies and business calendars, timer settings (read-only)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Optional

from portal.errors import DomainError
from portal.extensions import db_session
from portal.integers import whole_number
from portal.models import (
    FIELD_KINDS,
    BusinessCalendar,
    Category,
    CustomField,
    CustomStatus,
    Group,
    Holiday,
    SlaPolicy,
    User,
)
from portal.services import custom_statuses
from portal.services import support_admin as admin
from portal.services.rules import defaults as rule_defaults
from portal.status import Status
from portal.views.access import admin_required
from portal.views.errors import translate_domain_message
from portal.views.forms import WholeNumberField

bp = Blueprint("admin_support", __name__, url_prefix="/admin")

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))
PLAN_LABELS = {"standard": _l("Standard"), "premium": _l("Premium")}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}


class GroupForm(FlaskForm):
    name = StringField(_l("Name"))
    tier = SelectField(_l("Tier"), choices=[SelectChoice("", _l("None (skill group)")),
                                            *(SelectChoice(str(n), str(n)) for n in (1, 2, 3))],
                       validate_choice=False)
    skills = StringField(_l("Skills"))
    auto_assign = BooleanField(_l("Assign new tickets automatically"))
    guided = BooleanField(_l("Guided mode: agents use “Next ticket” instead of picking"))


class DefaultGroupForm(FlaskForm):
    default_group = SelectField(_l("Default group for tickets that arrive without one"), choices=[],
                                validate_choice=False)


class AgentForm(FlaskForm):
    skills = StringField(_l("Skills"))
    capacity = WholeNumberField(_l("Capacity"), validators=[Optional()])
    available = BooleanField(_l("Available"))


class PlanForm(FlaskForm):
    email = StringField(_l("Customer e-mail"))
    plan = SelectField(_l("Plan"), choices=[SelectChoice(k, v) for k, v in PLAN_LABELS.items()])


class CategoryForm(FlaskForm):
    name_en = StringField(_l("Name (English)"))
    name_es = StringField(_l("Name (Spanish)"))
    group_id = SelectField(_l("Group"), choices=[], validate_choice=False)
    skill = StringField(_l("Skill needed"))
    position = WholeNumberField(_l("Position"), validators=[Optional()])
    active = BooleanField(_l("Offered to customers"), default=True)


class FieldForm(FlaskForm):
    key = StringField(_l("Key"))
    label_en = StringField(_l("Label (English)"))
    label_es = StringField(_l("Label (Spanish)"))
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, k) for k in FIELD_KINDS])
    required = BooleanField(_l("Required"))
    options = StringField(_l("Options (for a list, separated by commas)"))


class PolicyForm(FlaskForm):
    priority = SelectField(_l("Priority"), choices=[SelectChoice(k, v) for k, v in PRIORITY_LABELS.items()])
    plan = SelectField(_l("Plan"), choices=[SelectChoice(k, v) for k, v in PLAN_LABELS.items()])
    first_reply = WholeNumberField(_l("First reply (minutes)"), validators=[Optional()])
    next_reply = WholeNumberField(_l("Next reply (minutes)"), validators=[Optional()])
    resolution = WholeNumberField(_l("Resolution (minutes)"), validators=[Optional()])
    business_hours = BooleanField(_l("Count business hours only"))
    calendar_id = SelectField(_l("Calendar"), choices=[], validate_choice=False)


class HolidayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[Optional()])
    name = StringField(_l("Name"))


class PlainForm(FlaskForm):
    pass


def _me() -> User:
    return current_user._get_current_object()


def _int(value: str | None) -> int | None:
    return whole_number(value)


def _done(endpoint: str, message: str, **values: object) -> Response:
    db_session().commit()
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


def _failed(exc: DomainError) -> str:
    db_session().rollback()
    return translate_domain_message(exc) or _("That did not work.")


# ---- Groups -------------------------------------------------------------------------------------------------


@bp.route("/groups", methods=["GET", "POST"])
@admin_required
def groups() -> Response | tuple[str, int]:
    form, error = GroupForm(), None
    if form.validate_on_submit():
        try:
            group = admin.save_group(db_session(), None, name=form.name.data, tier=_int(form.tier.data),
                                     skills=form.skills.data, auto_assign=form.auto_assign.data,
                                     guided=form.guided.data, actor=_me())
            return _done("admin_support.group", _("Group %(name)s created.", name=group.name),
                         group_id=_flush_id(group))
        except DomainError as exc:
            error = _failed(exc)
    page = _groups_page(form=form, error=error)
    return (page, 422) if error or form.errors else page


def _groups_page(*, form: GroupForm | None = None, default_form: DefaultGroupForm | None = None,
                 error: str | None = None) -> str:
    found = admin.groups(db_session(), actor=_me())
    if default_form is None:
        current = next((g for g in found if g.is_default), None)
        default_form = DefaultGroupForm(formdata=None, data={"default_group": str(current.id) if current else ""})
    default_form.default_group.choices = [SelectChoice("", _l("None: they wait outside the group queues")),
                                          *(SelectChoice(str(g.id), g.name) for g in found)]
    return render_template("admin/support_groups.html", groups=found, form=form or GroupForm(formdata=None),
                           default_form=default_form, error=error)


@bp.post("/groups/default")
@admin_required
def default_group() -> Response | tuple[str, int]:
    """Where a mail, an API call or a phone call without a category lands (services.routing)."""
    form, error = DefaultGroupForm(), None
    if form.validate_on_submit():
        try:
            chosen = form.default_group.data or ""
            group = admin.set_default_group(db_session(), (_int(chosen) or 0) if chosen else None, actor=_me())
            message = (_("New tickets without a group now go to %(name)s.", name=group.name) if group
                       else _("New tickets without a group now wait outside the group queues."))
            return _done("admin_support.groups", message)
        except DomainError as exc:
            error = _failed(exc)
    return _groups_page(default_form=form, error=error), 422


def _flush_id(obj) -> int:
    db_session().flush()
    return obj.id


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
@admin_required
def group(group_id: int) -> Response | tuple[str, int]:
    session = db_session()
    found = admin.get(session, Group, group_id, actor=_me())
    form, error = GroupForm(obj=found), None
    if request.method == "GET":
        form.tier.data = str(found.tier or "")
        form.skills.data = ", ".join(found.skills or [])
    if form.validate_on_submit():
        try:
            admin.save_group(session, found, name=form.name.data, tier=_int(form.tier.data), skills=form.skills.data,
                             auto_assign=form.auto_assign.data, guided=form.guided.data, actor=_me())
            ids = [n for n in map(whole_number, request.form.getlist("members")) if n is not None]
            admin.set_members(session, found, ids, actor=_me())
            return _done("admin_support.groups", _("Group %(name)s saved.", name=found.name))
        except DomainError as exc:
            error = _failed(exc)
            found = admin.get(session, Group, group_id, actor=_me())
    page = render_template("admin/support_group.html", group=found, form=form, error=error,
                           agents=admin.agents(session, actor=_me()))
    return (page, 422) if error or form.errors else page


# ---- Agents and plans ---------------------------------------------------------------------------------------


@bp.get("/agents")
@admin_required
def agents() -> str:
    return render_template("admin/support_agents.html", agents=admin.agents(db_session(), actor=_me()),
                           plan_form=PlanForm(formdata=None), plan_labels=PLAN_LABELS,
                           premium=admin.premium_customers(db_session(), actor=_me()))


@bp.post("/agents/<int:user_id>")
@admin_required
def agent(user_id: int) -> Response:
    person = admin.get(db_session(), User, user_id, actor=_me())
    form = AgentForm()
    form.validate()
    try:
        admin.update_agent(db_session(), person, skills=form.skills.data, capacity=form.capacity.data,
                           available=form.available.data, actor=_me())
    except DomainError as exc:
        flash(_failed(exc), "error")
        return redirect(url_for("admin_support.agents"), 303)
    return _done("admin_support.agents", _("%(name)s saved.", name=person.name))


@bp.post("/plans")
@admin_required
def plan() -> Response:
    form = PlanForm()
    form.validate()
    try:
        person = admin.set_plan(db_session(), form.email.data, form.plan.data, actor=_me())
    except DomainError as exc:
        flash(_failed(exc), "error")
        return redirect(url_for("admin_support.agents"), 303)
    return _done("admin_support.agents", _("%(name)s is on the %(plan)s plan.", name=person.name,
                                           plan=PLAN_LABELS[person.plan]))


# ---- Categories ---------------------------------------------------------------------------------------------


def _group_choices() -> list[SelectChoice]:
    groups = admin.groups(db_session(), actor=_me())
    return [SelectChoice("", _("No group")), *(SelectChoice(str(g.id), g.name) for g in groups)]


@bp.route("/categories", methods=["GET", "POST"])
@admin_required
def categories() -> Response | tuple[str, int]:
    form, error = CategoryForm(), None
    form.group_id.choices = _group_choices()
    if form.validate_on_submit():
        try:
            category = admin.save_category(db_session(), None, name_en=form.name_en.data, name_es=form.name_es.data,
                                           group_id=_int(form.group_id.data), skill=form.skill.data,
                                           position=form.position.data, active=form.active.data, actor=_me())
            return _done("admin_support.category", _("Category %(name)s created.", name=category.name_en),
                         category_id=_flush_id(category))
        except DomainError as exc:
            error = _failed(exc)
    page = render_template("admin/support_categories.html", form=form, error=error,
                           categories=admin.categories(db_session(), actor=_me()))
    return (page, 422) if error or form.errors else page


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@admin_required
def category(category_id: int) -> Response | tuple[str, int]:
    session = db_session()
    found = admin.get(session, Category, category_id, actor=_me())
    form, error = CategoryForm(obj=found), None
    form.group_id.choices = _group_choices()
    if request.method == "GET":
        form.group_id.data = str(found.group_id or "")
    if form.validate_on_submit():
        try:
            admin.save_category(session, found, name_en=form.name_en.data, name_es=form.name_es.data,
                                group_id=_int(form.group_id.data), skill=form.skill.data,
                                position=form.position.data, active=form.active.data, actor=_me())
            return _done("admin_support.categories", _("Category %(name)s saved.", name=found.name_en))
        except DomainError as exc:
            error = _failed(exc)
            found = admin.get(session, Category, category_id, actor=_me())
    page = render_template("admin/support_category.html", category=found, form=form, error=error,
                           field_form=FieldForm(formdata=None))
    return (page, 422) if error or form.errors else page


@bp.post("/categories/<int:category_id>/fields")
@admin_required
def add_field(category_id: int) -> Response:
    found = admin.get(db_session(), Category, category_id, actor=_me())
    form = FieldForm()
    form.validate()
    try:
        admin.add_field(db_session(), found, key=form.key.data, label_en=form.label_en.data,
                        label_es=form.label_es.data, kind=form.kind.data, required=form.required.data,
                        options=form.options.data, actor=_me())
    except DomainError as exc:
        flash(_failed(exc), "error")
        return redirect(url_for("admin_support.category", category_id=category_id), 303)
    return _done("admin_support.category", _("Field added."), category_id=category_id)


@bp.post("/fields/<int:field_id>/active")
@admin_required
def field_active(field_id: int) -> Response:
    found = admin.get(db_session(), CustomField, field_id, actor=_me())
    PlainForm().validate()
    admin.set_field_active(db_session(), found, request.form.get("active") == "1", actor=_me())
    return _done("admin_support.category", _("Field saved."), category_id=found.category_id)


# ---- SLA policies and calendars -----------------------------------------------------------------------------


def _calendar_choices() -> list[SelectChoice]:
    calendars = admin.calendars(db_session(), actor=_me())
    return [SelectChoice("", _("The first calendar")), *(SelectChoice(str(c.id), c.name) for c in calendars)]


@bp.route("/sla", methods=["GET", "POST"])
@admin_required
def sla() -> Response | tuple[str, int]:
    form, error = PolicyForm(), None
    form.calendar_id.choices = _calendar_choices()
    if form.validate_on_submit():
        try:
            admin.save_policy(db_session(), priority=form.priority.data, plan=form.plan.data,
                              first_reply=form.first_reply.data, next_reply=form.next_reply.data,
                              resolution=form.resolution.data, business_hours=form.business_hours.data,
                              calendar_id=_int(form.calendar_id.data), actor=_me())
            return _done("admin_support.sla", _("SLA policy saved."))
        except DomainError as exc:
            error = _failed(exc)
    page = render_template("admin/support_sla.html", form=form, error=error,
                           policies=admin.policies(db_session(), actor=_me()),
                           calendars=admin.calendars(db_session(), actor=_me()), plan_labels=PLAN_LABELS,
                           priority_labels=PRIORITY_LABELS, weekdays=WEEKDAYS)
    return (page, 422) if error or form.errors else page


@bp.post("/sla/<int:policy_id>/delete")
@admin_required
def delete_policy(policy_id: int) -> Response:
    found = admin.get(db_session(), SlaPolicy, policy_id, actor=_me())
    PlainForm().validate()
    admin.delete_policy(db_session(), found, actor=_me())
    return _done("admin_support.sla", _("SLA policy deleted."))


def _hours_from_form() -> dict[int, tuple[str, str]]:
    hours = {}
    for day in range(7):
        start, end = request.form.get(f"open{day}", "").strip(), request.form.get(f"close{day}", "").strip()
        if start or end:
            hours[day] = (start, end)
    return hours


@bp.post("/calendars")
@admin_required
def new_calendar() -> Response:
    PlainForm().validate()
    try:
        found = admin.save_calendar(db_session(), None, name=request.form.get("name", ""),
                                    timezone=request.form.get("timezone", ""), hours=_hours_from_form(), actor=_me())
    except DomainError as exc:
        flash(_failed(exc), "error")
        return redirect(url_for("admin_support.sla"), 303)
    return _done("admin_support.calendar", _("Calendar created."), calendar_id=_flush_id(found))


@bp.route("/calendars/<int:calendar_id>", methods=["GET", "POST"])
@admin_required
def calendar(calendar_id: int) -> Response | tuple[str, int]:
    session = db_session()
    found = admin.get(session, BusinessCalendar, calendar_id, actor=_me())
    error = None
    if request.method == "POST" and PlainForm().validate_on_submit():
        try:
            admin.save_calendar(session, found, name=request.form.get("name", ""),
                                timezone=request.form.get("timezone", ""), hours=_hours_from_form(), actor=_me())
            return _done("admin_support.calendar", _("Calendar saved."), calendar_id=calendar_id)
        except DomainError as exc:
            error = _failed(exc)
            found = admin.get(session, BusinessCalendar, calendar_id, actor=_me())
    page = render_template("admin/support_calendar.html", calendar=found, error=error, weekdays=WEEKDAYS,
                           holiday_form=HolidayForm(formdata=None))
    return (page, 422) if error else page


@bp.post("/calendars/<int:calendar_id>/holidays")
@admin_required
def add_holiday(calendar_id: int) -> Response:
    found = admin.get(db_session(), BusinessCalendar, calendar_id, actor=_me())
    form = HolidayForm()
    form.validate()
    try:
        admin.add_holiday(db_session(), found, day=form.day.data, name=form.name.data, actor=_me())
    except DomainError as exc:
        flash(_failed(exc), "error")
        return redirect(url_for("admin_support.calendar", calendar_id=calendar_id), 303)
    return _done("admin_support.calendar", _("Holiday added."), calendar_id=calendar_id)


@bp.post("/holidays/<int:holiday_id>/delete")
@admin_required
def delete_holiday(holiday_id: int) -> Response:
    found = admin.get(db_session(), Holiday, holiday_id, actor=_me())
    PlainForm().validate()
    calendar_id = found.calendar_id
    admin.remove_holiday(db_session(), found, actor=_me())
    return _done("admin_support.calendar", _("Holiday removed."), calendar_id=calendar_id)


# ---- Custom statuses -------------------------------------------------------------------------------------------


@bp.route("/statuses", methods=["GET", "POST"])
@admin_required
def statuses() -> Response | tuple[str, int]:
    error = None
    if request.method == "POST" and PlainForm().validate_on_submit():
        try:
            custom_statuses.create(db_session(), status=request.form.get("status", ""),
                                   label_en=request.form.get("label_en", ""), label_es=request.form.get("label_es", ""),
                                   actor=_me())
            return _done("admin_support.statuses", _("Label added."))
        except DomainError as exc:
            error = _failed(exc)
    page = render_template("admin/support_statuses.html", error=error,
                           statuses=custom_statuses.all_statuses(db_session(), actor=_me()),
                           core=[s.value for s in Status if s is not Status.CLOSED])
    return (page, 422) if error else page


@bp.post("/statuses/<int:status_id>/active")
@admin_required
def status_active(status_id: int) -> Response:
    found = admin.get(db_session(), CustomStatus, status_id, actor=_me())
    PlainForm().validate()
    custom_statuses.set_active(db_session(), found, request.form.get("active") == "1", actor=_me())
    return _done("admin_support.statuses", _("Label saved."))


# ---- Timers ---------------------------------------------------------------------------------------------------


@bp.get("/timers")
@admin_required
def timers() -> str:
    """Auto-close, the pending reminder and auto-solve are automations now: what they do as the admin left them,
    with a link to each rule. The PORTAL_* variables only gave the delays the defaults were installed with."""
    found = rule_defaults.current_timers(db_session())
    rows = [
        (_("Solved tickets close by themselves after (days)"), found.auto_close, "PORTAL_AUTO_CLOSE_DAYS"),
        (_("Pending tickets: reminder after (days)"), found.reminder, "PORTAL_PENDING_REMINDER_DAYS"),
        (_("Pending tickets: solved after (days)"), found.auto_solve, "PORTAL_PENDING_AUTO_SOLVE_DAYS"),
    ]
    return render_template("admin/support_timers.html", rows=rows)

