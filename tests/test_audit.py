"""The audit trail: a hash chain the database will not let the app rewrite, reads recorded,
the viewer and its CSV, and a person's subject-access export."""

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from app import audit
from app.models import AuditEvent
from app.types import utcnow
from tests.race import Writers


def chain(db) -> list[AuditEvent]:
    db.rollback()
    return list(
        db.exec(select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq))
    )


def as_dba(db, sql: str, **params) -> None:
    """Change the table behind the app's back, the way someone with the database would."""
    with audit.retention_window(db):
        db.execute(text(sql), params)
    db.commit()


def test_rows_chain_in_order_within_and_across_transactions_and_verify(db, runner, world):
    events = [audit.record(db, user=None, action=f"probe_{n}") for n in range(3)]
    db.commit()
    audit.record(db, user=None, action="probe_3")
    db.commit()
    rows = chain(db)
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    assert [row.action for row in rows[-4:]] == ["probe_0", "probe_1", "probe_2", "probe_3"]
    assert all(
        row.prev_hash == before.row_hash for before, row in zip(rows, rows[1:], strict=False)
    )
    assert rows[0].prev_hash is None and events[0].row_hash == rows[-4].row_hash
    answer = runner.invoke(args=["audit", "verify"])
    assert answer.exit_code == 0, answer.output
    assert f"audit chain intact: {len(rows)} rows" in answer.output


def _alter(db, rows):
    as_dba(db, "UPDATE auditevent SET action = 'person_edit' WHERE seq = :seq", seq=rows[2].seq)
    return rows[2].seq, str(rows[2].id), "was altered"


def _delete(db, rows):
    as_dba(db, "DELETE FROM auditevent WHERE seq = :seq", seq=rows[2].seq)
    return rows[2].seq, str(rows[3].id), "is missing"


def _insert_in_chain(db, rows):
    # a forged row takes the place of the last one, with a hash that does not follow
    last, row_id = rows[-1], uuid.uuid4()
    sqlite = db.bind.dialect.name == "sqlite"
    as_dba(db, "DELETE FROM auditevent WHERE seq = :seq", seq=last.seq)
    as_dba(
        db,
        "INSERT INTO auditevent (id, at, action, details, seq, prev_hash, row_hash)"
        " VALUES (:id, :at, 'login', '{}', :seq, :prev, :hash)",
        id=row_id.hex if sqlite else row_id,
        at=last.at.replace(tzinfo=None) if sqlite else last.at,
        seq=last.seq,
        prev="0" * 64,
        hash="1" * 64,
    )
    return last.seq, str(row_id), "was inserted"


def _insert_outside_chain(db, rows):
    # a row without a seq, dated after the chain began
    row_id = uuid.uuid4()
    at = utcnow().replace(tzinfo=None) if db.bind.dialect.name == "sqlite" else utcnow()
    as_dba(
        db,
        "INSERT INTO auditevent (id, at, action, details) VALUES (:id, :at, 'login', '{}')",
        id=row_id.hex if db.bind.dialect.name == "sqlite" else row_id,
        at=at,
    )
    return None, str(row_id), "was inserted"


@pytest.mark.parametrize("tamper", [_alter, _delete, _insert_in_chain, _insert_outside_chain])
def test_tampering_with_one_row_fails_verify_and_names_it(db, runner, world, tamper):
    for n in range(5):
        audit.record(db, user=world.users["officer"], action="person_view", details={"n": n})
    db.commit()
    seq, row_id, problem = tamper(db, chain(db))
    answer = runner.invoke(args=["audit", "verify"])
    assert answer.exit_code == 1
    assert row_id in answer.output and problem in answer.output
    if seq is not None:
        assert str(seq) in answer.output


@pytest.mark.parametrize(
    "statement", ["UPDATE auditevent SET action = 'nothing'", "DELETE FROM auditevent"]
)
def test_the_database_refuses_to_change_or_remove_audit_rows(db, world, statement):
    audit.record(db, user=world.users["officer"], action="person_view")
    db.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement))
    db.rollback()
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "nothing")).first() is None
    assert chain(db)


def test_concurrent_writers_keep_the_chain_linear(app, db, live_server, world, runner):
    """Writers at once through the live server (a real race on PostgreSQL)."""
    person = world.people["mine"]
    writers = Writers(live_server, "officer1", count=8)
    for _round in range(2):
        answers = writers.race(lambda n, http: http.get(f"{live_server}/people/{person.id}"))
        assert [a.status_code for a in answers] == [200] * 8
    rows = chain(db)
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    views = [r for r in rows if r.action == "person_view" and r.person_id == person.id]
    assert len(views) == 16
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def reads(db, page: str) -> list[dict]:
    db.rollback()
    query = select(AuditEvent.details).where(AuditEvent.action == "people_read")
    return [d for d in db.exec(query.order_by(AuditEvent.seq)) if d["page"] == page]


def test_the_people_list_search_and_today_record_who_was_shown(client, auth, db, world):
    auth.login("officer1")
    client.get("/people/")
    client.get("/people/?q=13812345678")
    client.get("/people/?q=nobody")
    client.get("/")
    mine = str(world.people["mine"].id)
    assert reads(db, "list") == [{"page": "list", "people": [mine]}]
    assert [d["people"] for d in reads(db, "search")] == [[mine], []]
    assert len(reads(db, "today")) == 1  # one row per page shown, even with nobody due


def _visit_page(client, **args):
    return client.get("/audit/", query_string=args)


def test_the_viewer_shows_her_unit_and_who_has_seen_a_record(client, auth, db, world):
    mine, elsewhere = world.people["mine"], world.people["elsewhere"]
    audit.record(db, user=world.users["officer"], action="person_view", person=mine)
    audit.record(db, user=world.users["other_supervisor"], action="person_view", person=elsewhere)
    db.commit()
    auth.login("officer1")
    client.get("/people/")  # a list page that names her
    auth.logout()
    auth.login("supervisor")
    page = _visit_page(client).text
    assert "张晓梅" in page and "王芳" not in page
    seen = _visit_page(client, person=mine.id).text
    # her view, the officer's list page, and the viewer page above, which showed her name
    assert "陈雪梅" in seen and seen.count('class="audit-row"') == 3
    by_user = _visit_page(client, user=world.users["officer"].id, action="person_view").text
    assert by_user.count('class="audit-row"') == 1
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    assert 'class="audit-row"' not in _visit_page(client, start=tomorrow).text
    assert _visit_page(client, person=elsewhere.id).status_code == 404
    viewed = db.exec(select(AuditEvent).where(AuditEvent.action == "audit_view")).all()
    assert len(viewed) == 4 and any(str(mine.id) in v.details["people"] for v in viewed)


def test_the_viewer_pages_newest_first(client, auth, db, world, monkeypatch):
    monkeypatch.setattr("app.audit_views.PAGE_SIZE", 2)
    for n in range(3):
        audit.record(db, user=world.users["officer"], action=f"probe_{n}")
        db.commit()
    auth.login("supervisor")
    first = _visit_page(client, user=world.users["officer"].id).text
    assert "第 1 页，共 2 页" in first
    first = first.partition('<ul class="list card">')[2]  # the rows, past the filters
    assert first.index("probe_2") < first.index("probe_1") and "probe_0" not in first
    second = _visit_page(client, user=world.users["officer"].id, page=2).text
    second = second.partition('<ul class="list card">')[2]
    assert "probe_0" in second and "probe_1" not in second


def test_a_supervisor_of_another_unit_sees_nothing_of_this_unit(client, auth, db, world):
    audit.record(db, user=world.users["officer"], action="person_view", person=world.people["mine"])
    db.commit()
    auth.login("sup2")
    page = _visit_page(client).text
    assert "张晓梅" not in page and "陈雪梅" not in page
    auth.logout()
    auth.login("officer1")
    assert _visit_page(client).status_code == 403


def test_the_csv_export_is_utf8_with_bom_and_audited(client, auth, db, world):
    mine = world.people["mine"]
    audit.record(db, user=world.users["officer"], action="person_view", person=mine)
    audit.record(db, user=world.users["officer"], action="=cmd", person=mine)
    db.commit()
    auth.login("supervisor")
    answer = client.get("/audit/export.csv", query_string={"person": mine.id})
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    body = answer.data.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    assert {row["action"] for row in rows} == {"person_view", "'=cmd"}
    assert {row["person"] for row in rows} == {"张晓梅"}
    (export,) = db.exec(select(AuditEvent).where(AuditEvent.action == "audit_export")).all()
    assert export.details["rows"] == 2 and export.person_id == mine.id


def test_the_subject_access_export_holds_her_whole_record_and_is_audited(client, auth, db, world):
    mine = world.people["mine"]
    auth.login("officer1")
    client.get(f"/people/{mine.id}")
    assert client.get(f"/audit/people/{mine.id}").status_code == 403
    auth.logout()
    auth.login("supervisor")
    page = client.get(f"/audit/people/{mine.id}").text
    assert "张晓梅" in page and "工作日晚上七点后" in page and "陈雪梅" in page
    answer = client.get(f"/audit/people/{mine.id}.json")
    assert "attachment" in answer.headers["Content-Disposition"]
    record = json.loads(answer.data)
    assert record["person"]["name"] == "张晓梅" and record["person"]["id_number"].endswith(
        world.people["mine"].id_number_tail
    )
    assert record["consents"][0]["preferred_contact_times"] == "工作日晚上七点后"
    assert record["support_plans"] and record["users"][str(world.users["supervisor"].id)] == "李静"
    viewers = {(a["action"], a["user_name"]) for a in record["accesses"]}
    assert ("person_view", "陈雪梅") in viewers and ("subject_access", "李静") in viewers
    formats = db.exec(select(AuditEvent.details).where(AuditEvent.action == "subject_access")).all()
    assert sorted(d["format"] for d in formats) == ["json", "page"]
    assert client.get(f"/audit/people/{world.people['elsewhere'].id}").status_code == 404
