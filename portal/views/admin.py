"""The admin area: people and their roles, and how the background jobs are doing. Every route is behind
`admin_required` (404 for everyone else)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.clock import utcnow
from portal.errors import Invalid, NotAllowed
from portal.extensions import db_session
from portal.models import ROLES
from portal.services import accounts, job_runs
from portal.services.rules import admin_queries
from portal.views.access import admin_required
from portal.views.account_forms import ROLE_LABELS, AdminCreateUserForm, ConfirmForm, RoleForm
from portal.views.auth import send_reset_link
from portal.views.htmx import is_htmx, vary_on_htmx
from portal.views.input_bounds import query_int
from portal.views.safe_redirect import local_target
from portal.worker.jobs import JOBS

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


# The background worker's jobs (portal/worker/jobs.py) as the admin overview names them.
JOB_LABELS = {
    "automations": _l("Automations, and postponed tickets coming back"),
    "sla_check": _l("SLA check"),
    "webhooks": _l("Webhook deliveries"),
    "mail_flush": _l("Queued e-mails"),
    "imap_poll": _l("IMAP mailbox"),
    "rollup": _l("Report rollup catch-up"),
}
# A job whose next run is this late: no worker is running it (or it hangs).
LATE_AFTER = timedelta(minutes=2)


@bp.get("/")
@admin_required
def index() -> str:
    now = utcnow()
    counts = accounts.count_by_role(db_session(), actor=current_user)
    background = job_runs.overview(db_session(), actor=current_user, now=now)
    jobs = [{"name": job.name, "label": JOB_LABELS.get(job.name, job.name), "run": background.runs.get(job.name),
             "interval": job.interval(current_app) if job.scheduled(current_app) else None} for job in JOBS]
    for job in jobs:
        run = job["run"]
        job["late"] = bool(run and run.next_run_at and run.next_run_at < now - LATE_AFTER and job["interval"])
    return render_template("admin/index.html", counts=counts, role_labels=ROLE_LABELS,
                           switched_off=admin_queries.switched_off(db_session(), actor=current_user),
                           jobs=jobs, backlog=background.backlog, worker_seen=bool(background.runs))


@bp.get("/users")
@admin_required
def users() -> str | Response:
    search = request.args.get("q", "")[:254]
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    page = query_int("page", 1)
    people, total = accounts.list_users(db_session(), search=search, role=role, limit=PAGE_SIZE,
                                        offset=(page - 1) * PAGE_SIZE, actor=current_user)
    context = {
        "people": people,
        "total": total,
        "search": search,
        "role": role,
        "page": page,
        "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "roles": ROLES,
        "role_labels": ROLE_LABELS,
        "action_form": ConfirmForm(formdata=None),
        "here": request.full_path if request.query_string else request.path,
    }
    template = "admin/_users_table.html" if is_htmx() else "admin/users.html"
    return vary_on_htmx(make_response(render_template(template, **context)))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user() -> str | Response | tuple[str, int]:
    form = AdminCreateUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_by_admin(
                db_session(), email=form.email.data, name=form.name.data, role=form.role.data,
                locale=form.locale.data, password=form.password.data or None, actor=current_user, now=utcnow(),
            )
        except Invalid:
            form.email.errors = [_("An account with this e-mail already exists.")]
        else:
            db_session().commit()
            if form.send_link.data and not send_reset_link(user, invited=True):
                flash(_("The account exists, but the e-mail could not be sent. Try again from the list."), "warning")
            flash(_("%(name)s can now log in as %(role)s.", name=user.name, role=ROLE_LABELS[user.role]), "success")
            return redirect(url_for("admin.users"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_new.html", form=form), status


def _back() -> Response:
    return redirect(local_target(request.form.get("next")) or url_for("admin.users"), 303)


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int) -> Response:
    user = accounts.get_user(db_session(), user_id, actor=current_user)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the roles."), "error")
        return _back()
    try:
        accounts.change_role(db_session(), user, form.role.data, actor=current_user, now=utcnow())
    except NotAllowed:
        flash(_("You cannot change your own role."), "error")
        return _back()
    db_session().commit()
    flash(_("%(name)s is now %(role)s.", name=user.name, role=ROLE_LABELS[user.role]), "success")
    return _back()


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate_user(user_id: int) -> Response:
    return _set_active(user_id, active=False)


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate_user(user_id: int) -> Response:
    return _set_active(user_id, active=True)


def _set_active(user_id: int, *, active: bool) -> Response:
    user = accounts.get_user(db_session(), user_id, actor=current_user)
    if not ConfirmForm().validate_on_submit():
        return _back()
    try:
        accounts.set_active(db_session(), user, active, actor=current_user, now=utcnow())
    except NotAllowed:
        flash(_("You cannot deactivate your own account."), "error")
        return _back()
    db_session().commit()
    if active:
        flash(_("%(name)s can log in again.", name=user.name), "success")
    else:
        flash(_("%(name)s is deactivated and can no longer log in.", name=user.name), "success")
    return _back()


@bp.post("/users/<int:user_id>/password-link")
@admin_required
def send_password_link(user_id: int) -> Response:
    user = accounts.get_user(db_session(), user_id, actor=current_user)
    if ConfirmForm().validate_on_submit():
        if user.active and send_reset_link(user, invited=not user.password_hash):
            flash(_("We e-mailed %(email)s a link to choose a password.", email=user.email), "success")
        else:
            flash(_("The e-mail could not be sent."), "error")
    return _back()
