"""The rules of a ledger's input, ID-card numbers, search keys and due dates: plain functions."""

from datetime import date

import pytest
from cryptography.fernet import Fernet

from app import idcard
from app.crypto import IdCipher, mask_id_number
from app.people.validation import Invalid, clean_consent, clean_person, clean_plan, clean_status
from app.search_keys import name_search_keys

TODAY = date(2026, 6, 1)


def valid_id(area="500103", born=date(1985, 3, 14), seq="024"):
    first17 = area + born.strftime("%Y%m%d") + seq
    return first17 + idcard.check_char(first17)


def person_form(**changes):
    data = {
        "name": "张晓梅",
        "id_number": valid_id(),
        "date_of_birth": "1985-03-14",
        "phone": "13812345678",
        "admission_date": "2024-01-10",
        "release_date": "2026-01-10",
        "support_path": "return_to_society",
        "risk_level": "low",
    }
    return {**data, **changes}


def errors_of(clean, data, **kwargs):
    with pytest.raises(Invalid) as caught:
        clean(data, today=TODAY, **kwargs)
    return caught.value.errors


def test_a_valid_person_is_cleaned():
    cleaned = clean_person(
        person_form(id_number=valid_id().lower()[:-1] + " " + valid_id()[-1]), today=TODAY
    )
    assert cleaned["id_number"] == valid_id()
    assert cleaned["date_of_birth"] == date(1985, 3, 14)
    assert cleaned["release_date"] == date(2026, 1, 10)


def test_the_date_of_birth_comes_from_the_id_number_when_left_blank():
    assert clean_person(person_form(date_of_birth=""), today=TODAY)["date_of_birth"] == date(
        1985, 3, 14
    )


def test_the_known_check_digit_x():
    # the specimen number printed in GB 11643's examples ends in X
    assert idcard.is_valid("11010519491231002X")
    assert not idcard.is_valid("110105194912310021")


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "Enter the ID-card number."),
        ("50010319850314024", "An ID-card number has 17 digits and then a digit or X."),
        ("5001031985031402A1", "An ID-card number has 17 digits and then a digit or X."),
        (
            valid_id()[:-1] + ("1" if valid_id()[-1] != "1" else "2"),
            "This ID-card number is not valid: check every digit.",
        ),
        (
            valid_id(born=date(1985, 2, 28))[:10] + "0230" + valid_id()[14:],
            "This ID-card number is not valid: check every digit.",
        ),
    ],
)
def test_bad_id_numbers_are_refused(number, message):
    assert errors_of(clean_person, person_form(id_number=number))["id_number"] == message


@pytest.mark.parametrize(
    "phone", ["1381234567", "23812345678", "138-1234-5678x", "12812345678", "phone"]
)
def test_bad_mobile_numbers_are_refused(phone):
    assert "mobile" in errors_of(clean_person, person_form(phone=phone))["phone"]


@pytest.mark.parametrize("phone", ["13812345678", "+86 138 1234 5678", "(138)12345678"])
def test_mobile_numbers_are_normalised(phone):
    assert clean_person(person_form(phone=phone), today=TODAY)["phone"] == "13812345678"


def test_an_emergency_contact_may_have_a_landline():
    cleaned = clean_person(
        person_form(contact_name="王芳", contact_relation="母亲", contact_phone="023-63801234"),
        today=TODAY,
    )
    assert cleaned["emergency_contacts"] == [
        {"name": "王芳", "relation": "母亲", "phone": "023-63801234"}
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"release_date": "2023-12-01"}, "release_date"),  # before admission
        ({"release_date": "2024-01-10"}, "release_date"),  # the same day
        ({"release_date": ""}, "release_date"),
        ({"release_date": "10/01/2026"}, "release_date"),
        ({"admission_date": "2027-01-01", "release_date": "2028-01-01"}, "admission_date"),
        ({"date_of_birth": "1985-03-15"}, "date_of_birth"),  # not the one in the number
        ({"id_number": valid_id(born=date(2020, 1, 1)), "date_of_birth": ""}, "date_of_birth"),
        ({"id_number": valid_id(born=date(1920, 1, 1)), "date_of_birth": ""}, "date_of_birth"),
        ({"name": "  "}, "name"),
        ({"risk_level": "extreme"}, "risk_level"),
    ],
)
def test_implausible_dates_and_missing_fields_are_refused(changes, field):
    assert field in errors_of(clean_person, person_form(**changes))


def test_every_bad_field_is_reported_at_once():
    errors = errors_of(clean_person, person_form(name="", phone="1", release_date="x"))
    assert set(errors) == {"name", "phone", "release_date"}


def test_an_edit_may_leave_the_id_number_blank():
    cleaned = clean_person(
        person_form(id_number="", date_of_birth=""), today=TODAY, id_required=False
    )
    assert cleaned["id_number"] == "" and cleaned["date_of_birth"] is None


def test_consent_needs_a_date_and_something_consented_to():
    errors = errors_of(clean_consent, {"signed_on": "2026-07-01", "consents": []})
    assert set(errors) == {"signed_on", "consents"}
    cleaned = clean_consent(
        {"signed_on": "2026-05-01", "consents": ["phone_contact"], "help_requested": ["work"]},
        today=TODAY,
    )
    assert cleaned["consents"] == {
        "follow_up_visits": False,
        "phone_contact": True,
        "family_contact": False,
        "share_with_partners": False,
        "peer_contact": False,
    }


PLAN = {
    "contact_kinds": ["home_visit"],
    "every_days_0": "14",
    "until_day_0": "90",
    "every_days_1": "30",
}


def test_a_plan_cadence_is_read_phase_by_phase():
    cleaned = clean_plan(PLAN, today=TODAY)
    assert cleaned["cadence"] == [
        {"until_day": 90, "every_days": 14},
        {"until_day": None, "every_days": 30},
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"until_day_1": "60"},  # the last phase must run without end
        {"until_day_0": "", "every_days_1": "30"},  # an open phase before the last
        {"every_days_0": "0"},
        {"every_days_0": "abc"},
        {"until_day_0": "400", "every_days_1": "30", "until_day_1": "200", "every_days_2": "9"},
        {"every_days_0": "", "until_day_0": "", "every_days_1": ""},
    ],
)
def test_bad_cadences_are_refused(changes):
    assert "cadence" in errors_of(clean_plan, {**PLAN, **changes})


def test_a_plan_needs_a_planned_contact_and_a_future_review():
    errors = errors_of(clean_plan, {**PLAN, "contact_kinds": [], "review_on": "2026-01-01"})
    assert set(errors) == {"contact_kinds", "review_on"}


def test_closing_needs_a_reason_and_other_changes_a_note():
    assert "reason" in errors_of(
        clean_status, {"to_status": "closed", "effective_on": "2026-05-01"}, current="active"
    )
    assert "note" in errors_of(
        clean_status, {"to_status": "lost_contact", "effective_on": "2026-05-01"}, current="active"
    )
    assert "to_status" in errors_of(
        clean_status,
        {"to_status": "active", "note": "x", "effective_on": "2026-05-01"},
        current="active",
    )
    assert "effective_on" in errors_of(
        clean_status,
        {"to_status": "paused", "note": "x", "effective_on": "2026-06-02"},
        current="active",
    )


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("张晓梅", {"张晓梅", "zhangxiaomei", "zxm"}),
        ("曾丽", {"zengli", "zl", "cengli"}),
        ("单芳", {"shanfang", "sf", "danfang"}),
        ("吕红", {"lvhong", "luhong", "lh"}),
    ],
)
def test_search_keys_cover_surname_readings(name, keys):
    assert keys <= set(name_search_keys(name).split())


def test_the_id_number_is_encrypted_with_rotation_and_hashed_with_its_own_key():
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = IdCipher(data_keys=old_key, hash_key="k" * 32)
    token = before.encrypt(valid_id())
    assert valid_id() not in token
    after = IdCipher(data_keys=f"{new_key},{old_key}", hash_key="k" * 32)
    assert after.decrypt(token) == valid_id()
    rotated = after.rotate(token)
    assert IdCipher(data_keys=new_key, hash_key="k" * 32).decrypt(rotated) == valid_id()
    assert IdCipher(data_keys=new_key, hash_key="k" * 32).decrypt(token) is None
    assert before.digest(valid_id()) == after.digest(valid_id())
    assert IdCipher(data_keys=old_key, hash_key="other" * 8).digest(valid_id()) != before.digest(
        valid_id()
    )


def test_masking_keeps_the_first_three_and_last_four():
    assert mask_id_number("500103198503140241") == "500***********0241"
    assert mask_id_number(None, "0241") == "**************0241"
