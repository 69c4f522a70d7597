"""Labels for the codes a visit stores, translated where they are shown."""

from flask_babel import lazy_gettext as _l

LOCATION_LABELS = {
    "home": _l("Her home"),
    "phone": _l("By phone"),
    "facility": _l("In the facility"),
    "community_office": _l("Community office"),
    "other": _l("Elsewhere"),
}
FAILURE_REASON_LABELS = {
    "no_answer": _l("No answer"),
    "not_at_home": _l("Not at home"),
    "unreachable": _l("Phone off or number not in service"),
    "declined": _l("Declined to meet"),
    "other": _l("Other reason"),
}
PARTICIPANT_LABELS = {
    "mother": _l("Mother"),
    "father": _l("Father"),
    "partner": _l("Husband or partner"),
    "child": _l("Child"),
    "sibling": _l("Sister or brother"),
    "other_relative": _l("Other relative"),
}
RISK_FLAG_LABELS = {
    "relapse_signs": _l("Signs of relapse"),
    "family_conflict": _l("Family conflict"),
    "no_income": _l("No income"),
    "no_housing": _l("No housing"),
    "health_problem": _l("Health problem"),
    "self_harm": _l("Self-harm risk"),
}
HELP_GIVEN_LABELS = {
    "emotional_support": _l("Emotional support"),
    "relapse_prevention": _l("Relapse prevention"),
    "family_mediation": _l("Family mediation"),
    "job_referral": _l("Job referral"),
    "housing_help": _l("Help with housing"),
    "documents_help": _l("Help with documents"),
    "medical_referral": _l("Medical referral"),
}
DIFFICULTY_LABELS = {
    "work": _l("Work"),
    "housing": _l("Housing"),
    "documents": _l("Documents"),
    "health": _l("Health"),
    "family": _l("Family"),
}
FIELD_LABELS = {
    "_form": _l("Visit"),
    "id": _l("Visit"),
    "person_id": _l("Person"),
    "kind": _l("Kind of contact"),
    "occurred_at": _l("When"),
    "duration_minutes": _l("Duration (minutes)"),
    "location": _l("Where"),
    "participants": _l("Family members present"),
    "failure_reason": _l("Why no contact"),
    "mood": _l("Mood (1 low – 5 good)"),
    "craving": _l("Craving (0 none – 10 strong)"),
    "risk_flags": _l("Risks"),
    "help_given": _l("Help given"),
    "difficulties": _l("Difficulties raised"),
    "agreed_actions": _l("Agreed actions"),
    "notes": _l("Notes"),
    "next_contact_on": _l("Next planned contact"),
}

LABELS = {
    "LOCATION_LABELS": LOCATION_LABELS,
    "FAILURE_REASON_LABELS": FAILURE_REASON_LABELS,
    "PARTICIPANT_LABELS": PARTICIPANT_LABELS,
    "RISK_FLAG_LABELS": RISK_FLAG_LABELS,
    "HELP_GIVEN_LABELS": HELP_GIVEN_LABELS,
    "DIFFICULTY_LABELS": DIFFICULTY_LABELS,
    "FIELD_LABELS": FIELD_LABELS,
}
