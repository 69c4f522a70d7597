"""Due lists read stored standings; the schedule rules stay the one source of truth.

Whatever a caseload's history, on any day after it, the due list read from the index
(with or without the daily refresh having run) equals the rules run per person, and
`check_due` finds nothing to report once the refresh has run.
"""

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.due import UPCOMING_DAYS, check_due, due_for_person, due_items, refresh_due
from app.models import Person
from app.schedule import DueReason, DueState
from tests.factories import NOW, TODAY, make_person, save_visit, visit_data

ZONE = "Asia/Shanghai"
names = (f"officer{n}" for n in itertools.count())


def days(n: int) -> timedelta:
    return timedelta(days=n)


def expected(db, people: list[Person], today) -> dict:
    """The due list as the rules give it, person by person."""
    answer = {}
    for person in people:
        due = due_for_person(db, person, today=today, timezone=ZONE)
        if due.state != DueState.not_due and due.due_on <= today + days(UPCOMING_DAYS):
            answer[person.id] = due
    return answer


def listed(db, officer, today) -> dict:
    return {item.person.id: item.due for item in due_items(db, officer, today=today)}


VISIT = st.tuples(
    st.integers(min_value=0, max_value=3),  # whose
    st.integers(min_value=0, max_value=400),  # days before NOW
    st.booleans(),  # a failed attempt
    st.one_of(st.none(), st.integers(min_value=1, max_value=60)),  # next contact agreed in
)
PERSON = st.tuples(
    st.one_of(st.none(), st.integers(min_value=-500, max_value=250)),  # release, from TODAY
    st.sampled_from(["active", "pre_release", "paused", "lost_contact"]),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(PERSON, min_size=1, max_size=4), visits=st.lists(VISIT, max_size=10))
def test_the_index_answers_as_the_rules_do_on_every_later_day(db, unit, make_user, people, visits):
    officer = make_user(next(names))
    caseload = [
        make_person(
            db,
            unit,
            officer,
            name=f"甲{n}",
            release_date=None if release is None else TODAY + days(release),
            status=status,
        )
        for n, (release, status) in enumerate(people)
    ]
    for whose, before, failed, agreed in sorted(visits, key=lambda v: -v[1]):
        person = caseload[whose % len(caseload)]
        at = NOW - days(before)
        fields = {"occurred_at": at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")}
        if failed:
            fields |= {"kind": "attempt", "failure_reason": "no_answer"}
        elif agreed:
            fields["next_contact_on"] = (TODAY - days(before) + days(agreed)).isoformat()
        save_visit(db, officer, visit_data(person, **fields), now=NOW)
    refresh_due(db, today=TODAY, everyone=True)
    for later in (0, 1, 61, 200, 400):
        today = TODAY + days(later)
        # before the daily refresh, the recheck day decides who is worked out afresh
        assert listed(db, officer, today) == expected(db, caseload, today)
        refresh_due(db, today=today)
        assert listed(db, officer, today) == expected(db, caseload, today)
        assert check_due(db, today=today).differences == []


def test_release_day_moves_her_from_preparation_to_first_contact(db, unit, make_user, runner):
    """No write happens on her release day; the due list and the daily refresh see it."""
    officer = make_user("officer1")
    person = make_person(db, unit, officer, release_date=TODAY + days(3), status="pre_release")
    save_visit(db, officer, visit_data(person), now=NOW)  # met her before release
    refresh_due(db, today=TODAY, everyone=True)
    db.refresh(person)
    assert (person.next_due_on, person.due_reason) == (TODAY + days(10), DueReason.first_contact)
    assert person.due_recheck_on == TODAY + days(3)
    release_day = TODAY + days(3)
    assert listed(db, officer, release_day)[person.id].due_on == TODAY + days(10)
    assert refresh_due(db, today=release_day) == 1
    db.refresh(person)
    assert person.due_recheck_on is None
    assert refresh_due(db, today=release_day + days(1)) == 0


def test_never_met_without_release_date_stays_due_today_every_day(db, unit, make_user):
    officer = make_user("officer1")
    person = make_person(db, unit, officer, release_date=None)
    for later in range(3):
        today = TODAY + days(later)
        due = listed(db, officer, today)[person.id]
        assert (due.state, due.due_on) == (DueState.due_today, today)
        refresh_due(db, today=today)
        db.refresh(person)
        assert person.due_recheck_on == today + days(1)


def test_lost_contact_is_suggested_on_its_day_with_no_refresh(db, unit, make_user, count_queries):
    """The lost-contact hint is a stored date: the days passing need no recompute."""
    officer = make_user("officer1")
    person = make_person(db, unit, officer, release_date=TODAY - days(300))
    save_visit(db, officer, visit_data(person, occurred_at="2026-04-16T10:30"), now=NOW)
    db.refresh(person)
    assert person.lost_contact_from == TODAY  # 60 days after her last contact
    with count_queries() as queries:
        assert not listed(db, officer, TODAY - days(1))[person.id].suggest_lost_contact
        assert listed(db, officer, TODAY)[person.id].suggest_lost_contact
    assert len(queries) == 2  # one range query each, no rules run


def test_every_write_stores_her_standing(db, unit, make_user):
    """A visit recorded, then corrected, leaves nothing for the check to report."""
    officer = make_user("officer1")
    person = make_person(db, unit, officer)
    data = visit_data(person, next_contact_on=(TODAY + days(5)).isoformat())
    result = save_visit(db, officer, data, now=NOW)
    db.refresh(person)
    assert (person.next_due_on, person.due_reason) == (TODAY + days(5), DueReason.planned)
    assert person.last_contact_at == datetime(2026, 6, 15, 2, 30, tzinfo=UTC)
    assert result.due.due_on == TODAY + days(5)
    report = check_due(db, today=TODAY)
    assert (report.checked, report.differences) == (1, [])


def test_check_due_reports_a_stored_answer_the_rules_do_not_give(db, unit, make_user):
    officer = make_user("officer1")
    person = make_person(db, unit, officer)
    refresh_due(db, today=TODAY, everyone=True)
    db.refresh(person)
    person.next_due_on = TODAY + days(365)
    db.add(person)
    db.commit()
    (difference,) = check_due(db, today=TODAY).differences
    assert difference.person_id == person.id
    assert difference.stored["next_due_on"] == TODAY + days(365)
    assert difference.rules["next_due_on"] != TODAY + days(365)
    assert check_due(db, today=TODAY, sample=1).checked == 1
