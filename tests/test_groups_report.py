"""Group sessions in the periodic report: one 人次 per attendee under its kind, one session."""

import csv
import io
from zoneinfo import ZoneInfo

from app.supervision.period import Period, PeriodKind
from app.supervision.report import build_report
from tests.group_world import caseload, group_data, save_group

SHANGHAI = ZoneInfo("Asia/Shanghai")
JUNE = Period(PeriodKind.month, 2026, 6)


def test_a_session_counts_each_attendee_and_itself_once(db, client, auth, unit, make_user):
    officer = make_user("officer1")
    helper = make_user("helper1", role="peer_helper")
    supervisor = make_user("supervisor", role="supervisor")
    people = caseload(db, unit, officer, 4)
    save_group(db, officer, group_data(people))
    # led by a peer helper, recorded by the officer
    talk = group_data(people[:2], kind="psychological_training", leader_id=str(helper.id))
    assert save_group(db, officer, talk).outcome == "created"

    report = build_report(db, supervisor, JUNE, zone=SHANGHAI)
    figures = report.total
    assert figures.follow_ups_by_kind["group_counselling"] == 4
    assert figures.follow_ups_by_kind["psychological_training"] == 2
    assert figures.people_reached == 4
    assert (figures.group_sessions, figures.helper_group_sessions) == (2, 1)

    auth.login("supervisor")
    answer = client.get(
        "/reports/report.csv", query_string={"kind": "month", "year": "2026", "month": "6"}
    )
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert ["团体活动（次）", "2"] in rows and ["其带领的团体活动（次）", "1"] in rows
    assert ["团体辅导", "4"] in rows
