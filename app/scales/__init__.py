"""Standard scales (PHQ-9, GAD-7, craving, mood): entered for a person, charted on her ledger."""

from flask import Blueprint

from app.scales.definitions import SCALES

bp = Blueprint("scales", __name__)
bp.record_once(lambda state: state.app.jinja_env.globals.update(SCALES=SCALES))

from app.scales import views  # noqa: E402, F401 - routes
