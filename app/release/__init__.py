"""Release preparation (出所准备): her six items on her ledger, the unfinished on Today."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.models import ReleaseItem

bp = Blueprint("release", __name__)

ITEM_LABELS = {
    ReleaseItem.support_application: _l("Support application signed"),
    ReleaseItem.family_contact: _l("Family contact made"),
    ReleaseItem.housing: _l("Housing arranged"),
    ReleaseItem.work_or_training: _l("Work or training arranged"),
    ReleaseItem.community_handover: _l("Community rehabilitation handover"),
    ReleaseItem.first_contact_booked: _l("First contact booked for release week"),
}
assert set(ITEM_LABELS) == set(ReleaseItem), "every release item needs a label"
bp.record_once(lambda state: state.app.jinja_env.globals.update(RELEASE_ITEM_LABELS=ITEM_LABELS))

from app.release import views  # noqa: E402, F401 - routes
