"""Administration: units and users."""

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from app import audit
from app.accounts import UNIT_RULES, AccountError, create_unit, create_user, update_unit
from app.admin.forms import UnitForm, UnitSettingsForm, UserForm
from app.admin.users import list_users
from app.db import get_session
from app.due import refresh_due, schedule_today
from app.forms import choices
from app.models import Unit, User
from app.policy import Action, can, require
from app.types import utcnow

bp = Blueprint("admin", __name__)


@bp.route("/units", methods=["GET", "POST"])
@login_required
def units():
    require(current_user, Action.unit_manage)
    db = get_session()
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = create_unit(db, name=form.name.data)
        except AccountError as error:
            getattr(form, error.field).errors.append(_(str(error)))
        else:
            audit.record(db, user=current_user, action="unit_create", target=unit)
            db.commit()
            flash(_("Unit %(name)s created.", name=unit.name), "success")
            return redirect(url_for("admin.units"))
    all_units = db.exec(select(Unit).order_by(Unit.name)).all()
    return render_template("admin/units.html", form=form, units=all_units)


@bp.route("/units/<uuid:unit_id>", methods=["GET", "POST"])
@login_required
def unit(unit_id: uuid.UUID):
    """A unit's name and rules; a new lost-contact or risk rule re-dates its people at once."""
    require(current_user, Action.unit_manage)
    db = get_session()
    unit = db.get(Unit, unit_id)
    if unit is None:
        abort(404)
    form = UnitSettingsForm(obj=unit)
    if form.validate_on_submit():
        rules = {key: getattr(form, key).data for key in UNIT_RULES}
        try:
            changed = update_unit(db, unit, name=form.name.data, **rules)
        except AccountError as error:
            getattr(form, error.field).errors.append(_(str(error)))
        else:
            if changed:
                audit.record(
                    db, user=current_user, action="unit_update", target=unit, details=changed
                )
            db.commit()
            if changed.keys() & {"lost_contact_after_days", "risk_follow_up_hours"}:
                refresh_due(db, today=schedule_today(), everyone=True, unit_id=unit.id)
            flash(_("Unit %(name)s saved.", name=unit.name), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit.html", form=form, unit=unit)


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users():
    """The accounts she may see; an admin also creates one here."""
    require(current_user, Action.user_view)
    db = get_session()
    form = _new_user_form(db) if can(current_user, Action.user_manage) else None
    if request.method == "POST":
        require(current_user, Action.user_manage)
        if form.validate_on_submit() and (user := _create_user(db, form)) is not None:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    states = list_users(db, actor=current_user, now=utcnow())
    return render_template("admin/users.html", form=form, states=states)


def _new_user_form(db) -> UserForm:
    form = UserForm()
    all_units = db.exec(select(Unit).order_by(Unit.name)).all()
    form.unit_id.choices = choices([("", _("No unit"))] + [(str(u.id), u.name) for u in all_units])
    return form


def _create_user(db, form: UserForm) -> User | None:
    try:
        user = create_user(
            db,
            username=form.username.data,
            display_name=form.display_name.data,
            password=form.password.data,
            role=form.role.data,
            unit_id=uuid.UUID(form.unit_id.data) if form.unit_id.data else None,
            locale=form.locale.data,
            timezone=form.timezone.data,
            environment=current_app.config["CLOVER_ENV"],
        )
    except AccountError as error:
        getattr(form, error.field).errors.append(_(str(error)))
        return None
    audit.record(
        db,
        user=current_user,
        action="user_create",
        target=user,
        details={"username": user.username, "role": user.role},
    )
    db.commit()
    return user


from app.admin import user_views  # noqa: E402, F401 - a user's page and what an admin does there
