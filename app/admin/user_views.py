"""A user's page, and what an admin (or her unit's supervisor, to unlock) does there."""

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from app.accounts import AccountError
from app.admin import bp
from app.admin.forms import HandOverForm, UserEditForm
from app.admin.users import (
    caseload,
    caseload_size,
    deactivate,
    end_user_session,
    hand_over,
    handover_choices,
    reactivate,
    update_user,
    user_state,
)
from app.auth.lockout import unlock
from app.auth.totp import reset_second_factor
from app.contract import commit
from app.db import get_session
from app.forms import choices
from app.models import Unit, User
from app.passwords import reset_password
from app.people.common import parse_uuid, show_errors
from app.people.validation import Invalid
from app.policy import Action, can, require
from app.security import session_limits
from app.sessions import active_sessions
from app.types import utcnow


def _user_or_404(user_id: uuid.UUID, action: Action = Action.user_view) -> User:
    """The account if she may do `action` to it: 404 out of her view, 403 beyond her role."""
    user = get_session().get(User, user_id)
    if user is None:
        abort(404)
    require(current_user, Action.user_view, user)
    require(current_user, action, user)
    return user


def _edit_form(user: User) -> UserEditForm:
    form = UserEditForm(obj=user)
    units = get_session().exec(select(Unit).order_by(Unit.name)).all()
    form.unit_id.choices = choices([("", _("No unit"))] + [(str(u.id), u.name) for u in units])
    if request.method == "GET":
        form.unit_id.data = str(user.unit_id or "")
    return form


def _page(user: User, form: UserEditForm | None):
    db, now = get_session(), utcnow()
    unit = db.get(Unit, user.unit_id) if user.unit_id else None
    manage = can(current_user, Action.user_manage, user)
    sessions = active_sessions(db, user, limits=session_limits(), now=now) if manage else []
    page = render_template(
        "admin/user.html",
        state=user_state(user, unit.name if unit else None, now),
        form=form,
        sessions=sessions,
        people=caseload_size(db, user),
        manage=manage,
    )
    return page


@bp.route("/users/<uuid:user_id>", methods=["GET", "POST"])
@login_required
def user(user_id: uuid.UUID):
    """Her account: state and sessions; an admin edits her name, role and unit here."""
    user = _user_or_404(user_id)
    manage = can(current_user, Action.user_manage, user)
    form = _edit_form(user) if manage else None
    if request.method == "POST":
        require(current_user, Action.user_manage, user)
        if form.validate_on_submit():
            try:
                update_user(
                    get_session(),
                    actor=current_user,
                    user=user,
                    display_name=form.display_name.data,
                    role=form.role.data,
                    unit_id=parse_uuid(form.unit_id.data),
                    now=utcnow(),
                )
            except AccountError as error:
                getattr(form, error.field).errors.append(_(str(error)))
            else:
                commit(get_session())
                flash(_("Changes saved."), "success")
                return redirect(url_for("admin.user", user_id=user.id))
        return _page(user, form)
    return _page(user, form)


def _done(user: User, message: str):
    commit(get_session())
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=user.id))


def _refused(user: User, error: AccountError):
    get_session().rollback()
    flash(_(str(error)), "error")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<uuid:user_id>/deactivate")
@login_required
def deactivate_user(user_id: uuid.UUID):
    user = _user_or_404(user_id, Action.user_manage)
    try:
        deactivate(get_session(), actor=current_user, user=user, now=utcnow())
    except AccountError as error:
        return _refused(user, error)
    return _done(user, _("%(name)s can no longer sign in.", name=user.display_name))


@bp.post("/users/<uuid:user_id>/reactivate")
@login_required
def reactivate_user(user_id: uuid.UUID):
    user = _user_or_404(user_id, Action.user_manage)
    try:
        reactivate(get_session(), actor=current_user, user=user, now=utcnow())
    except AccountError as error:
        return _refused(user, error)
    return _done(user, _("%(name)s can sign in again.", name=user.display_name))


@bp.post("/users/<uuid:user_id>/unlock")
@login_required
def unlock_user(user_id: uuid.UUID):
    user = _user_or_404(user_id, Action.user_unlock)
    if not unlock(get_session(), actor=current_user, user=user, now=utcnow()):
        return _done(user, _("%(name)s was not locked.", name=user.display_name))
    return _done(user, _("%(name)s is unlocked.", name=user.display_name))


@bp.post("/users/<uuid:user_id>/second-factor/reset")
@login_required
def reset_second_factor_of(user_id: uuid.UUID):
    user = _user_or_404(user_id, Action.user_manage)
    reset_second_factor(get_session(), actor=current_user, user=user, now=utcnow())
    return _done(
        user,
        _(
            "Second factor reset: %(name)s enrols again at her next sign-in.",
            name=user.display_name,
        ),
    )


@bp.post("/users/<uuid:user_id>/password")
@login_required
def reset_password_of(user_id: uuid.UUID):
    """A one-time password, shown here once and never again; she changes it at sign-in."""
    user = _user_or_404(user_id, Action.user_manage)
    db = get_session()
    password = reset_password(db, actor=current_user, user=user)
    commit(db)
    return render_template("admin/one_time_password.html", user=user, password=password)


@bp.post("/users/<uuid:user_id>/sessions/<uuid:session_id>/end")
@login_required
def end_session_of(user_id: uuid.UUID, session_id: uuid.UUID):
    user = _user_or_404(user_id, Action.user_manage)
    row = end_user_session(
        get_session(), actor=current_user, user=user, session_id=session_id, now=utcnow()
    )
    if row is None:
        abort(404)
    return _done(user, _("Signed out: %(device)s.", device=row.label))


@bp.route("/users/<uuid:user_id>/handover", methods=["GET", "POST"])
@login_required
def handover(user_id: uuid.UUID):
    """All her people to another officer of her unit, each with the reason in her history."""
    user = _user_or_404(user_id, Action.user_manage)
    db, form, result = get_session(), HandOverForm(), None
    form.to_user.choices = choices(
        [("", "—")] + [(str(u.id), u.display_name) for u in handover_choices(db, user)]
    )
    if form.validate_on_submit():
        try:
            result = hand_over(
                db,
                actor=current_user,
                user=user,
                to_user_id=parse_uuid(form.to_user.data),
                reason=form.reason.data,
                versions=_posted_versions(),
            )
        except Invalid as invalid:
            show_errors(form, invalid.errors)
        else:
            commit(db)
            if not (result.stale or result.refused):
                flash(_("%(n)d people handed over.", n=len(result.moved)), "success")
                return redirect(url_for("admin.user", user_id=user.id))
    page = render_template(
        "admin/handover.html", user=user, form=form, people=caseload(db, user), result=result
    )
    return page, 409 if result is not None else 200


def _posted_versions() -> dict[uuid.UUID, int]:
    """{person id: version} from the form's `v-<id>` fields: the versions it was opened at."""
    versions = {}
    for name, value in request.form.items():
        key = parse_uuid(name.removeprefix("v-")) if name.startswith("v-") else None
        if key is not None and value.isdigit():
            versions[key] = int(value)
    return versions
