"""The one write path for scales: validate the answers, score them, check, store, audit.

`record_scale(*, session, user, data)` follows the write contract (`app.contract`): it
flushes and never commits; the caller's `commit()` then sends `app.signals.
scale_recorded`, so answers that raise a risk flag alert as a visit that flags it does.
It answers with a `WriteResult`: `created`; `duplicate` (this UUID is stored with these
answers: a double submit); `conflict` (this UUID is stored with other answers);
`invalid` (`errors` per item, `q1`..`qN`, or per field); `refused` (not hers to enter).
The answers come as the form sends them, one field per item (`q1`..`qN`), and are
stored as a list in item order.
Messages are English source strings marked with `N_`; translate them where shown.
"""

from datetime import datetime
from functools import cache

from pydantic import create_model
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import LostRace, Outcome, WriteResult, after_commit, refused, savepoint
from app.due import refresh_next_due, schedule_today
from app.inputs import Choice, Model, Uuid, Whole, validate
from app.models import Person, PersonStatus, ScaleResult, User, Visit
from app.policy import may_record_scale
from app.scales.definitions import SCALES
from app.signals import scale_recorded
from app.types import utcnow

NOT_YOURS = N_("You may not enter a scale for this person.")
UNANSWERED = N_("Choose an answer for this question.")
OUT_OF_RANGE = N_("This answer is not one of the choices.")


NO_ID = N_("This scale has no valid identifier. Reload the form.")
NO_SCALE = N_("There is no such scale.")


class ScaleEntry(Model):
    """What the form sends besides the answers: the ids and the scale."""

    id: Uuid(NO_ID, required=NO_ID)
    person_id: Uuid(required=NOT_YOURS)
    # the visit it was taken in, if any
    visit_id: Uuid() = None
    scale: Choice(tuple(SCALES), NO_SCALE, required=NO_SCALE)


def item_key(index: int) -> str:
    """The form's name for an item (0-based): q1, q2, ..."""
    return f"q{index + 1}"


@cache
def answers_model(code: str) -> type[Model]:
    """The answers of one scale as a model made from its table: q1..qN, each required and
    one of its answers' values."""
    scale = SCALES[code]
    answer = Whole(min(scale.values), max(scale.values), OUT_OF_RANGE, required=UNANSWERED)
    fields = {item_key(i): (answer, ...) for i in range(len(scale.items))}
    return create_model(f"Answers_{code}", __base__=Model, **fields)


def clean_entry(data: dict) -> tuple[ScaleEntry | None, list[int], dict[str, list[str]]]:
    """The entry and its answers in item order, or the errors: every item answered, in range."""
    entry, errors = validate(ScaleEntry, data)
    if errors:
        return None, [], errors
    answers, errors = validate(answers_model(entry.scale), data)
    if errors:
        return None, [], errors
    scale = SCALES[entry.scale]
    return entry, [getattr(answers, item_key(i)) for i in range(len(scale.items))], {}


def _visit_of(session: Session, entry: ScaleEntry) -> tuple[Visit | None, dict]:
    """The visit it was taken in, which must be one of hers."""
    if entry.visit_id is None:
        return None, {}
    visit = session.get(Visit, entry.visit_id)
    if visit is None or visit.person_id != entry.person_id:
        return None, {"visit_id": [N_("This visit is not one of hers.")]}
    return visit, {}


def record_scale(
    *, session: Session, user: User, data: dict, now: datetime | None = None
) -> WriteResult:
    """Score and store a scale whose UUID (`data["id"]`) the form chose."""
    now = now or utcnow()
    entry, answers, errors = clean_entry(data)
    if errors:
        return WriteResult(Outcome.invalid, errors=errors)
    person = session.get(Person, entry.person_id)
    if person is None:
        return refused(NOT_YOURS)
    visit, errors = _visit_of(session, entry)
    if errors:
        return WriteResult(Outcome.invalid, errors=errors)
    # taken in a visit: at the visit's time, so it sits beside it on her ledger
    taken_at = visit.occurred_at if visit is not None else now
    if not may_record_scale(session, user, person, taken_at=taken_at):
        return refused(NOT_YOURS)
    existing = session.get(ScaleResult, entry.id)
    if existing is not None:
        return _replayed(existing, entry, answers)
    if person.consent_withdrawn_at is not None:
        return refused(N_("She has withdrawn her consent: no new scales can be entered."))
    if person.status == PersonStatus.closed:
        return refused(N_("Her ledger is closed: no new scales can be entered."))
    scale = SCALES[entry.scale]
    total = sum(answers)
    result = ScaleResult(
        id=entry.id,
        person_id=person.id,
        visit_id=visit.id if visit is not None else None,
        author_id=user.id,
        scale=scale.code,
        answers=answers,
        total=total,
        band=scale.band_of(total).code,
        risk_flags=scale.flags(answers),
        taken_at=taken_at,
        created_at=now,
        updated_at=now,
    )
    try:
        with savepoint(session):
            session.add(result)
            session.flush()
            details = {"scale": scale.code, "version": 1}
            if result.risk_flags:
                details["risk_flags"] = result.risk_flags
            audit.record(
                session,
                user=user,
                action="scale_record",
                person=person,
                target=result,
                details=details,
            )
            if result.risk_flags:
                # a flagged answer is followed up within the unit's risk hours, as a visit's
                refresh_next_due(session, person, today=schedule_today(now))
    except LostRace:
        # the same UUID saved by a request running alongside: judge it as a replay
        existing = session.get(ScaleResult, entry.id)
        if existing is None:
            raise
        return _replayed(existing, entry, answers)
    after_commit(session, lambda: scale_recorded.send(result, session=session, user=user))
    return WriteResult(Outcome.created, result)


def _replayed(existing: ScaleResult, entry: ScaleEntry, answers: list[int]) -> WriteResult:
    """A UUID already stored: the same scale again, or other answers under its id."""
    same = (existing.person_id, existing.scale, existing.answers, existing.visit_id) == (
        entry.person_id,
        entry.scale,
        answers,
        entry.visit_id,
    )
    return WriteResult(Outcome.duplicate if same else Outcome.conflict, existing)


def results_of(session: Session, person: Person, *, limit: int = 500) -> list[ScaleResult]:
    """Her scale results, oldest first (the most recent `limit` of them)."""
    newest = session.exec(
        select(ScaleResult)
        .where(ScaleResult.person_id == person.id)
        .order_by(ScaleResult.taken_at.desc(), ScaleResult.id)
        .limit(limit)
    ).all()
    return newest[::-1]
