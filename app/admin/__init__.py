"""Administration: units and users."""

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from app import audit
from app.accounts import AccountError, create_unit, create_user
from app.admin.forms import UnitForm, UserForm
from app.db import get_session
from app.forms import choices
from app.models import Unit, User
from app.policy import Action, require

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


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users():
    require(current_user, Action.user_manage)
    db = get_session()
    all_units = db.exec(select(Unit).order_by(Unit.name)).all()
    form = UserForm()
    form.unit_id.choices = choices([("", _("No unit"))] + [(str(u.id), u.name) for u in all_units])
    if form.validate_on_submit():
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
            )
        except AccountError as error:
            getattr(form, error.field).errors.append(_(str(error)))
        else:
            audit.record(
                db,
                user=current_user,
                action="user_create",
                target=user,
                details={"username": user.username, "role": user.role},
            )
            db.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    all_users = db.exec(select(User).order_by(User.role, User.username)).all()
    unit_names = {u.id: u.name for u in all_units}
    return render_template("admin/users.html", form=form, users=all_users, unit_names=unit_names)
