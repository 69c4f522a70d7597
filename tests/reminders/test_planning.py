"""Planning reads each user's due list once, for the morning digest and the evening alike."""

from datetime import timedelta

import requests

from app.reminders.channels import build_channels
from app.reminders.planning import plan_reminders
from tests.reminders.conftest import CHONGQING_EIGHT


def test_the_digest_and_the_heads_up_share_one_read_of_her_due_list(
    make_user, due_person, subscribe, push_app, db, count_queries
):
    officers = [make_user(f"officer{n}", timezone="Asia/Chongqing") for n in range(3)]
    for officer in officers:
        due_person(officer)  # due today: the digest has news
        due_person(officer, due_in=1, home_visit=True)  # a home visit tomorrow: the heads-up
        subscribe(officer)
    evening = CHONGQING_EIGHT + timedelta(hours=10, minutes=30)  # 18:30: both are due
    with push_app.app_context(), requests.Session() as http, count_queries() as queries:
        planned = plan_reminders(db, now=evening, channels=build_channels(push_app.config, http))
    mine = {officer.id: officer.username for officer in officers}
    assert sorted((mine[r.user_id], r.kind, r.details) for r in planned) == [
        (name, kind, details)
        for name in ("officer0", "officer1", "officer2")
        for kind, details in (
            ("digest", {"overdue": 0, "due_today": 1}),
            ("evening", {"home_visits": 1}),
        )
    ]
    due_lists = [q for q in queries if "person.next_due_on <=" in q]
    assert len(due_lists) == len(officers)  # one each, not one for each reminder
