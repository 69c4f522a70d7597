"""Release preparation (出所准备): six items ticked from six months before her release day.

No Flask in here. `mark_item(*, session, user, person, data, today)` follows the write
contract (`app.contract`): it flushes and never commits. One row per (person, item) holds
the item's state; the form that opened it sends the row's UUID (a new one for an item
never marked) and the version it read (0 for none):

- `created`, `edited`: the mark is stored, as the item's first or next version;
- `duplicate`: nothing changed, the item already reads as sent (a double submit, a resend,
  or the same mark made by someone else meanwhile);
- `conflict`: nothing changed, someone marked the item otherwise since the form was opened
  (`STALE`); `record` is the item as it stands;
- `invalid`, `refused`: nothing changed; `errors` says why.

Messages are English source strings marked with `N_`; translate them where shown.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from app import audit
from app.accounts import N_
from app.contract import LostRace, Outcome, WriteResult, refused, savepoint
from app.inputs import Choice, Model, Text, Uuid, Whole, validate
from app.models import (
    PRE_RELEASE_DAYS,
    Person,
    PersonStatus,
    ReleaseItem,
    ReleasePreparation,
    User,
)
from app.policy import Action, can, people_scope
from app.types import utcnow

ITEMS = tuple(ReleaseItem)
NOTE_LENGTH = 200
DONE, NOT_DONE = "done", "not_done"

NOT_YOURS = N_("You may not change her release preparation.")
NO_ID = N_("This item has no valid identifier. Reload the page.")
NO_ITEM = N_("There is no such item of release preparation.")
NO_STATE = N_("Choose done or not done.")
NO_VERSION = N_("The page sent no version of this item. Reload the page.")
NOT_OPEN = N_(
    "Her release preparation is open from six months before her release date until she leaves."
)
STALE = N_(
    "Someone else marked this item since you opened the page, so nothing was saved. "
    "It is shown as it stands now: mark it again if it still needs changing."
)
NOTE_TOO_LONG = N_("Keep the note to 200 characters.")


class Mark(Model):
    """What the form sends for one item."""

    id: Uuid(NO_ID, required=NO_ID)
    item: Choice(ITEMS, NO_ITEM, required=NO_ITEM)
    state: Choice((DONE, NOT_DONE), NO_STATE, required=NO_STATE)
    note: Text(NOTE_LENGTH, too_long=NOTE_TOO_LONG)
    version: Whole(0, 2**31 - 1, NO_VERSION, required=NO_VERSION)


def opens_on(release_date: date) -> date:
    """The first day of her preparation: six months (PRE_RELEASE_DAYS) before release."""
    return release_date - timedelta(days=PRE_RELEASE_DAYS)


def in_preparation(person: Person, today: date) -> bool:
    """Is her preparation open? From six months before her release day until it, or past
    it while her status still says she is inside; never once her ledger is closed."""
    release = person.release_date
    if release is None or person.status == PersonStatus.closed or today < opens_on(release):
        return False
    return today < release or person.status == PersonStatus.pre_release


@dataclass(frozen=True)
class Line:
    """One item on her ledger: its stored row (None: never marked) and who marked it."""

    item: str
    row: ReleasePreparation | None
    marked_by: User | None
    # the UUID the item's first mark is stored under, when it has none yet
    new_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def form_id(self) -> uuid.UUID:
        return self.row.id if self.row is not None else self.new_id

    @property
    def done(self) -> bool:
        return self.row is not None and self.row.done

    @property
    def version(self) -> int:
        return self.row.version if self.row is not None else 0


def checklist_of(session: Session, person: Person) -> list[Line]:
    """Her six items in order, with their rows and markers: one query."""
    rows = {
        row.item: (row, user)
        for row, user in session.exec(
            select(ReleasePreparation, User)
            .join(User, User.id == ReleasePreparation.marked_by_id)
            .where(ReleasePreparation.person_id == person.id)
        )
    }
    return [Line(item.value, *rows.get(item.value, (None, None))) for item in ITEMS]


def release_panel(session: Session, person: Person, today: date) -> list[Line] | None:
    """Her checklist for the ledger while her preparation is open (None otherwise)."""
    return checklist_of(session, person) if in_preparation(person, today) else None


def mark_item(
    *,
    session: Session,
    user: User,
    person: Person,
    data: dict,
    today: date,
    now: datetime | None = None,
) -> WriteResult:
    """Tick or untick one item of her preparation, on the version the form read."""
    now = now or utcnow()
    if not can(user, Action.release_prepare, person):
        return refused(NOT_YOURS)
    mark, errors = validate(Mark, data)
    if errors:
        return WriteResult(Outcome.invalid, errors=errors)
    if not in_preparation(person, today):
        return refused(NOT_OPEN)
    if person.consent_withdrawn_at is not None:
        return refused(N_("She has withdrawn her consent: her preparation cannot be changed."))
    wanted = (mark.state == DONE, mark.note)
    row = _row(session, person, mark.item)
    if row is not None and (row.done, row.note) == wanted:
        return WriteResult(Outcome.duplicate, row)  # already so: a resend, or the same mark
    if row is None and mark.version == 0:
        return _create(session, user, person, mark, today, now)
    if row is None or row.id != mark.id or row.version != mark.version:
        return _stale(row)
    try:
        with savepoint(session):
            row.done, row.note = wanted
            row.marked_by_id, row.marked_on, row.updated_at = user.id, today, now
            row.version += 1
            session.add(row)
            session.flush()  # the UPDATE checks the version it read
            _audit(session, user, person, row)
    except LostRace:
        session.expire(row)
        return _judged_again(session, person, mark)
    return WriteResult(Outcome.edited, row)


def _row(session: Session, person: Person, item: str) -> ReleasePreparation | None:
    return session.exec(
        select(ReleasePreparation).where(
            ReleasePreparation.person_id == person.id, ReleasePreparation.item == item
        )
    ).first()


def _create(session, user: User, person: Person, mark: Mark, today: date, now) -> WriteResult:
    """The item's first mark, under the form's UUID."""
    taken = session.get(ReleasePreparation, mark.id)
    if taken is not None:  # this UUID names another item: not a resend of this one
        return WriteResult(Outcome.invalid, errors={"id": [NO_ID]})
    row = ReleasePreparation(
        id=mark.id,
        person_id=person.id,
        item=mark.item,
        done=mark.state == DONE,
        note=mark.note,
        marked_by_id=user.id,
        marked_on=today,
        created_at=now,
        updated_at=now,
    )
    try:
        with savepoint(session):
            session.add(row)
            session.flush()
            _audit(session, user, person, row)
    except LostRace:
        # the same item marked first by a request running alongside
        return _judged_again(session, person, mark)
    return WriteResult(Outcome.created, row)


def _judged_again(session: Session, person: Person, mark: Mark) -> WriteResult:
    """After a lost race: the same mark as the winner's is a duplicate, another is stale."""
    row = _row(session, person, mark.item)
    if row is not None and (row.done, row.note) == (mark.state == DONE, mark.note):
        return WriteResult(Outcome.duplicate, row)
    return _stale(row)


def _stale(row: ReleasePreparation | None) -> WriteResult:
    return WriteResult(Outcome.conflict, row, errors={"_form": [STALE]})


def _audit(session: Session, user: User, person: Person, row: ReleasePreparation) -> None:
    audit.record(
        session,
        user=user,
        action="release_prepare",
        person=person,
        target=row,
        details={"item": row.item, "done": row.done, "version": row.version},
    )


# --- Today: her people whose preparation is open and not finished ---


@dataclass(frozen=True)
class Preparing:
    """A person on Today's preparation list: how many of the six items are done."""

    person: Person
    done: int

    @property
    def left(self) -> int:
        return len(ITEMS) - self.done


def done_count(person_id=Person.id):
    """An SQL expression: how many of her items are marked done."""
    return (
        select(func.count())
        .select_from(ReleasePreparation)
        .where(ReleasePreparation.person_id == person_id, ReleasePreparation.done)
        .scalar_subquery()
    )


def preparing(session: Session, user: User, *, today: date) -> list[Preparing]:
    """Her people whose preparation is open with items left, the soonest release first.

    One query: her scope by release date (indexed), the count of done items per person.
    """
    done = done_count()
    rows = session.exec(
        select(Person, done)
        .where(
            people_scope(user),
            Person.release_date <= today + timedelta(days=PRE_RELEASE_DAYS),
            or_(
                Person.release_date > today,
                and_(Person.status == PersonStatus.pre_release, Person.release_date <= today),
            ),
            Person.status.not_in([PersonStatus.closed, PersonStatus.paused]),
            Person.consent_withdrawn_at.is_(None),
            done < len(ITEMS),
        )
        .order_by(Person.release_date, Person.name)
    ).all()
    return [Preparing(person, count) for person, count in rows]
