"""Group sessions for the tests: an officer's caseload and what a phone or the form sends."""

import uuid

from app.contract import commit
from app.groups.service import edit_group_session, record_group_session
from tests.factories import NOW, make_person

NAMES = ("张晓梅", "李红", "王芳", "赵丽", "陈静", "刘敏", "杨洁", "黄燕", "周玲", "吴霞", "郑琳")


def caseload(db, unit, officer, n: int = 3, **fields) -> list:
    """`n` people assigned to `officer`."""
    return [make_person(db, unit, officer, name=NAMES[i % len(NAMES)], **fields) for i in range(n)]


def group_data(people, **fields) -> dict:
    """What the group form (or an outbox item's `data`) sends; override by keyword."""
    data = {
        "id": str(uuid.uuid4()),
        "kind": "group_counselling",
        "occurred_at": "2026-06-15T10:00",
        "duration_minutes": "90",
        "online": "",
        "place": "社区康复站活动室",
        "topic": "情绪管理",
        "notes": "小组讨论了应对渴求的方法。",
        "attendees": [str(person.id) for person in people],
    }
    data.update(fields)
    return data


def create_group_item(people, **fields) -> dict:
    data = group_data(people, **fields)
    data.pop("id")
    item_id = str(uuid.uuid4())
    return {
        "id": item_id,
        "type": "group.create",
        "record_id": item_id,
        "base_version": None,
        "data": data,
    }


def edit_group_item(create: dict, base_version: int, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "group.edit",
        "record_id": create["record_id"],
        "base_version": base_version,
        "data": {**create["data"], **fields},
    }


def save_group(db, user, data, now=NOW):
    """Record a group session through the write path and commit it, as the form does."""
    result = record_group_session(session=db, user=user, data=data, now=now)
    commit(db)
    return result


def correct_group(db, user, group_id, base_version, data, now=NOW):
    result = edit_group_session(
        session=db, user=user, group_id=group_id, base_version=base_version, data=data, now=now
    )
    commit(db)
    return result
