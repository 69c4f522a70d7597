"""Language and time zone: zh-Hans by default, English complete, chosen per user."""

import functools
from collections.abc import Callable
from typing import TypeVar

from babel.lists import format_list
from flask import Flask, current_app, session
from flask_babel import LazyString, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import babel
from app.types import utcnow

T = TypeVar("T")
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "en": "English"}

# the zones officers and supervisors work in; the default comes from config
# the time zones a user may choose, by the name people know them by
TIMEZONE_LABELS = {
    "Asia/Shanghai": _l("Beijing time (Shanghai)"),
    "Asia/Chongqing": _l("Chongqing"),
    "Asia/Urumqi": _l("Urumqi (Xinjiang time)"),
    "Asia/Hong_Kong": _l("Hong Kong"),
    "UTC": _l("Coordinated Universal Time (UTC)"),
}


def select_locale() -> str:
    locales = current_app.config["CLOVER_LOCALES"]
    if current_user.is_authenticated and current_user.locale in locales:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in locales:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["CLOVER_TIMEZONE"]


def current_locale() -> str:
    """The locale of this request as a catalog name: zh_Hans or en."""
    return str(get_locale())


def html_lang() -> str:
    """The BCP 47 tag for <html lang>: zh_Hans becomes zh-Hans."""
    return current_locale().replace("_", "-")


def labelled(codes, labels) -> str:
    """Stored codes as one translated phrase: 'Work, Housing, and Health', '就业、住房和健康'."""
    return format_list([str(labels[code]) for code in codes], locale=current_locale()) or "—"


def translated_errors(errors: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """A write path's errors ({field: [source string]}) in the user's language."""
    return {
        name: [gettext(message) for message in messages]
        for name, messages in (errors or {}).items()
    }


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["labelled"] = labelled
    app.jinja_env.globals.update(html_lang=html_lang, current_locale=current_locale)
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        ROLE_LABELS=ROLE_LABELS,
        STATUS_LABELS=STATUS_LABELS,
        RISK_LABELS=RISK_LABELS,
        VISIT_KIND_LABELS=VISIT_KIND_LABELS,
        CLOSE_REASON_LABELS=CLOSE_REASON_LABELS,
        SUPPORT_PATH_LABELS=SUPPORT_PATH_LABELS,
        CONSENT_LABELS=CONSENT_LABELS,
        HELP_LABELS=HELP_LABELS,
        FOCUS_LABELS=FOCUS_LABELS,
        utcnow=utcnow,
    )
    app.context_processor(_label_tables_translated)


def once_per_language(words: Callable[[], T]) -> Callable[[], T]:
    """`words()` worked out once per app and language, then kept: for what is made of
    translated strings alone. The catalogs do not change while a process runs, and each
    gettext looks up the request's locale again (hundreds of times on a ledger page)."""
    key = f"clover_words:{words.__module__}.{words.__qualname__}"

    @functools.wraps(words)
    def kept() -> T:
        by_language = current_app.extensions.setdefault(key, {})
        locale = current_locale()
        if locale not in by_language:
            by_language[locale] = words()
        return by_language[locale]

    return kept


@once_per_language
def _label_tables_translated() -> dict[str, dict]:
    """Every label table among the templates' globals (codes to lazy strings), as plain
    strings in this request's language: a page shows a table's label without translating
    it again."""
    return {
        name: {code: str(label) for code, label in value.items()}
        for name, value in current_app.jinja_env.globals.items()
        if isinstance(value, dict)
        and value
        and all(isinstance(label, LazyString) for label in value.values())
    }


# labels for stored codes, translated where they are shown
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "supervisor": _l("Supervisor"),
    "officer": _l("Officer"),
    "peer_helper": _l("Peer helper"),
    "director": _l("Director (read only)"),
}
STATUS_LABELS = {
    "pre_release": _l("Before release"),
    "active": _l("Active"),
    "paused": _l("Paused"),
    "lost_contact": _l("Lost contact"),
    "relapse": _l("Relapse"),
    "closed": _l("Closed"),
}
CLOSE_REASON_LABELS = {
    "completed": _l("Support completed"),
    "moved_away": _l("Moved away"),
    "returned_to_custody": _l("Returned to custody"),
    "deceased": _l("Deceased"),
}
SUPPORT_PATH_LABELS = {
    "return_to_society": _l("Return-to-society support"),
    "community": _l("Community treatment and rehabilitation support"),
    "volunteer": _l("Volunteer and charity support"),
}
CONSENT_LABELS = {
    "follow_up_visits": _l("Follow-up visits"),
    "phone_contact": _l("Phone contact"),
    "family_contact": _l("Contact with her family"),
    "share_with_partners": _l("Sharing with community-rehabilitation partners"),
    "peer_contact": _l("Contact by a peer helper"),
}
HELP_LABELS = {
    "family": _l("Family relations"),
    "work": _l("Work"),
    "housing": _l("Housing"),
    "health": _l("Health"),
    "documents": _l("Documents"),
    "psychological": _l("Psychological support"),
}
FOCUS_LABELS = {**HELP_LABELS, "drug_free_will": _l("Her own will to stay off drugs")}
RISK_LABELS = {"low": _l("Low risk"), "medium": _l("Medium risk"), "high": _l("High risk")}
VISIT_KIND_LABELS = {
    "home_visit": _l("Home visit"),
    "phone_consultation": _l("Phone consultation"),
    "follow_up": _l("Scheduled follow-up"),
    "psychological_training": _l("Psychological training"),
    "family_therapy": _l("Family therapy"),
    "parent_child_counselling": _l("Parent–child counselling"),
    "talk": _l("Heart-to-heart talk"),
    "online_check_in": _l("Online check-in"),
    "attempt": _l("Attempt, no contact"),
    "group_counselling": _l("Group counselling"),
}
