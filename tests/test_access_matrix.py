"""The access matrix: every endpoint of the URL map, for every role, against one table.

Each route with ids is asked twice: with her own record of each kind (home) and with the
nearest record she should not reach (away); see tests/access_world.py for which is which.
A POST goes with a valid CSRF token and an empty body: a POST that passes the access check
is then refused as input (`bad`) or answered with its form again (`ok`), never `forbidden`.

Answers, by class:
    ok         2xx, or a redirect anywhere but the sign-in page
    signin     a page: 302 to /auth/login with `next`; an /api/ route: 401 JSON
    forbidden  403
    hidden     404: the record is out of her scope and the answer does not say it exists
    bad        400, 409 or 422: the input refused after the access check passed
A cell `home/away` gives both answers; a single word stands for both.
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from app.accounts import create_unit
from tests.access_world import NAMES, ROLES, AccessWorld, account_state, ledger_state, sign_in

# fmt: off
TABLE = """
endpoint                     method  anonymous helper            officer           other_officer     supervisor        admin
today.index                  GET     signin    ok                ok                ok                ok                ok
auth.login                   GET     ok        ok                ok                ok                ok                ok
auth.login                   POST    ok        ok                ok                ok                ok                ok
auth.language                POST    ok        ok                ok                ok                ok                ok
auth.logout                  POST    signin    ok                ok                ok                ok                ok
auth.enrol                   GET     ok        ok                ok                ok                ok                ok
auth.enrol                   POST    ok        ok                ok                ok                ok                ok
auth.second_factor           GET     ok        ok                ok                ok                ok                ok
auth.second_factor           POST    ok        ok                ok                ok                ok                ok
health.healthz               GET     ok        ok                ok                ok                ok                ok
offline.page                 GET     ok        ok                ok                ok                ok                ok
offline.outbox               GET     ok        ok                ok                ok                ok                ok
offline.contract_document    GET     ok        ok                ok                ok                ok                ok
offline.lock                 GET     ok        ok                ok                ok                ok                ok
offline.device_key_state     GET     ok        ok                ok                ok                ok                ok
offline.service_worker       GET     ok        ok                ok                ok                ok                ok
settings.index               GET     signin    ok                ok                ok                ok                ok
settings.index               POST    signin    ok                ok                ok                ok                ok
settings.second_factor       GET     signin    ok                ok                ok                ok                ok
settings.second_factor       POST    signin    ok                ok                ok                ok                ok
settings.recovery_codes      POST    signin    ok                ok                ok                ok                ok
settings.second_factor_off   POST    signin    ok                ok                ok                forbidden         forbidden
settings.password            GET     signin    ok                ok                ok                ok                ok
settings.password            POST    signin    ok                ok                ok                ok                ok
settings.end_session         POST    signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         ok/hidden
reminders.preferences        GET     signin    ok                ok                ok                ok                ok
reminders.preferences        POST    signin    ok                ok                ok                ok                ok
reminders.test               POST    signin    ok                ok                ok                ok                ok
reminders.remove_device      POST    signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         ok/hidden
reminders.subscribe          POST    signin    bad               bad               bad               bad               bad
reminders.unsubscribe        DELETE  signin    bad               bad               bad               bad               bad
api.sync_api.openapi         GET     signin    ok                ok                ok                ok                ok
api.sync_api.push            POST    signin    bad               bad               bad               bad               bad
api.sync_api.pull            GET     signin    ok                ok                ok                ok                forbidden
api.offline_page_list        GET     signin    ok                ok                ok                ok                forbidden
device_keys.show             GET     signin    bad               bad               bad               bad               forbidden
device_keys.issue            POST    signin    bad               bad               bad               bad               forbidden
sync.conflicts               GET     signin    ok                ok                ok                ok                ok
sync.conflict                GET     signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         ok/ok
sync.conflict                POST    signin    bad/hidden        bad/hidden        bad/hidden        forbidden/hidden  forbidden
people.index                 GET     signin    ok                ok                ok                ok                ok
people.register              GET     signin    forbidden         forbidden         forbidden         ok                ok
people.register              POST    signin    forbidden         forbidden         forbidden         ok                ok
people.ledger                GET     signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         ok/ok
people.edit                  GET     signin    forbidden/hidden  forbidden/hidden  forbidden/hidden  ok/hidden         ok/ok
people.edit                  POST    signin    forbidden/hidden  forbidden/hidden  forbidden/hidden  ok/hidden         ok/ok
people.contact               GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.contact               POST    signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.reveal                POST    signin    forbidden/hidden  forbidden/hidden  forbidden/hidden  ok/hidden         forbidden
people.assign_person         GET     signin    forbidden/hidden  forbidden/hidden  forbidden/hidden  ok/hidden         ok/ok
people.assign_person         POST    signin    forbidden/hidden  forbidden/hidden  forbidden/hidden  bad/hidden        bad/bad
people.status                GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.status                POST    signin    forbidden/hidden  bad/hidden        bad/hidden        bad/hidden        forbidden
people.consent               GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.consent               POST    signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.consent_history       GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         ok/ok
people.withdraw              GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.withdraw              POST    signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.plan                  GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.plan                  POST    signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
people.plan_history          GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         ok/ok
visits.new                   GET     signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         forbidden
visits.new                   POST    signin    bad/hidden        bad/hidden        bad/hidden        bad/hidden        forbidden
visits.edit                  GET     signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         forbidden
visits.edit                  POST    signin    bad/hidden        bad/hidden        bad/hidden        bad/hidden        forbidden
visits.versions              GET     signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         ok/ok
groups.index                 GET     signin    ok                ok                ok                ok                forbidden
groups.new                   GET     signin    ok                ok                ok                ok                forbidden
groups.new                   POST    signin    bad               bad               bad               bad               forbidden
groups.view                  GET     signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         forbidden
groups.edit                  GET     signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         forbidden
groups.edit                  POST    signin    bad/hidden        bad/hidden        bad/hidden        bad/hidden        forbidden
groups.versions              GET     signin    ok/hidden         ok/hidden         ok/hidden         ok/hidden         forbidden
scales.choose                GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
scales.new                   GET     signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
scales.new                   POST    signin    forbidden/hidden  bad/hidden        bad/hidden        bad/hidden        forbidden
release.mark                 POST    signin    forbidden/hidden  bad/hidden        bad/hidden        bad/hidden        forbidden
checkin.form                 GET     hidden    hidden            hidden            hidden            hidden            hidden
checkin.form                 POST    hidden    hidden            hidden            hidden            hidden            hidden
checkin.issue                POST    signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
checkin.send                 POST    signin    forbidden/hidden  bad/hidden        bad/hidden        bad/hidden        forbidden
checkin.revoke               POST    signin    forbidden/hidden  ok/hidden         ok/hidden         ok/hidden         forbidden
audit.index                  GET     signin    forbidden         forbidden         forbidden         ok                ok
audit.export                 GET     signin    forbidden         forbidden         forbidden         ok                ok
audit.subject_access         GET     signin    forbidden/hidden  forbidden/hidden  forbidden/hidden  ok/hidden         forbidden
audit.subject_access_file    GET     signin    forbidden/hidden  forbidden/hidden  forbidden/hidden  ok/hidden         forbidden
admin.units                  GET     signin    forbidden         forbidden         forbidden         forbidden         ok
admin.units                  POST    signin    forbidden         forbidden         forbidden         forbidden         ok
admin.unit                   GET     signin    forbidden         forbidden         forbidden         forbidden         ok
admin.unit                   POST    signin    forbidden         forbidden         forbidden         forbidden         ok
admin.users                  GET     signin    forbidden         forbidden         forbidden         ok                ok
admin.users                  POST    signin    forbidden         forbidden         forbidden         forbidden         ok
admin.user                   GET     signin    hidden            hidden            hidden            ok/hidden         ok/ok
admin.user                   POST    signin    hidden            hidden            hidden            forbidden/hidden  ok/ok
admin.unlock_user            POST    signin    hidden            hidden            hidden            ok/hidden         ok/ok
admin.deactivate_user        POST    signin    hidden            hidden            hidden            forbidden/hidden  ok/ok
admin.reactivate_user        POST    signin    hidden            hidden            hidden            forbidden/hidden  ok/ok
admin.reset_password_of      POST    signin    hidden            hidden            hidden            forbidden/hidden  ok/ok
admin.reset_second_factor_of POST    signin    hidden            hidden            hidden            forbidden/hidden  ok/ok
admin.end_session_of         POST    signin    hidden            hidden            hidden            forbidden/hidden  ok/ok
admin.handover               GET     signin    hidden            hidden            hidden            forbidden/hidden  ok/ok
admin.handover               POST    signin    hidden            hidden            hidden            forbidden/hidden  ok/ok
dashboard.index              GET     signin    forbidden         forbidden         forbidden         ok                ok
dashboard.officer            GET     signin    forbidden         forbidden         forbidden         ok/hidden         ok/ok
dashboard.city               GET     signin    forbidden         forbidden         forbidden         forbidden         ok
reports.index                GET     signin    forbidden         forbidden         forbidden         ok                ok
reports.report_xlsx          GET     signin    forbidden         forbidden         forbidden         ok                ok
reports.report_csv           GET     signin    forbidden         forbidden         forbidden         ok                ok
reports.export               GET     signin    forbidden         forbidden         forbidden         ok                forbidden
reports.export               POST    signin    forbidden         forbidden         forbidden         bad               forbidden
"""  # noqa: E501 - one row per route reads better than a wrapped one
# fmt: on

# these answers name nobody: not even that the record exists (a 403 is for what she may see)
REFUSALS = {"signin", "hidden"}
SKIPPED_ENDPOINTS = {"static"}  # files, the same for everyone
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# run after every other cell, in this order: each ends what the cells before it need
# (the user's sessions, her account; the walker's own session)
LAST = (
    "admin.reset_second_factor_of",
    "admin.reset_password_of",
    "admin.deactivate_user",
    "admin.reactivate_user",
    "auth.logout",
)


def parse_table(text: str) -> dict[tuple[str, str], dict[str, tuple[str, str]]]:
    """The declared answers: (endpoint, method) -> role -> (home, away)."""
    header, *rows = [line.split() for line in text.strip().splitlines()]
    assert tuple(header[2:]) == ROLES, header
    table = {}
    for row in rows:
        assert len(row) == 2 + len(ROLES), f"a row needs a cell for every role: {row}"
        key = (row[0], row[1])
        assert key not in table, f"{key} is declared twice"
        table[key] = {}
        for role, cell in zip(ROLES, row[2:], strict=True):
            home, _, away = cell.partition("/")
            table[key][role] = (home, away or home)
    return table


EXPECTED = parse_table(TABLE)


def url_map_cells(app) -> list[tuple[object, str]]:
    """Every (rule, method) of the app that the matrix walks, sign-out last."""
    cells = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED_ENDPOINTS
        for method in sorted(rule.methods - SKIPPED_METHODS)
    ]
    last = {endpoint: i for i, endpoint in enumerate(LAST, start=1)}
    return sorted(cells, key=lambda c: (last.get(c[0].endpoint, 0), c[1] != "GET", c[0].rule))


def classify(path: str, response) -> str:
    """The class of an answer, or the status itself when it fits none."""
    status = response.status_code
    api = path.startswith("/api/")
    if api and status == 401 and response.is_json:
        return "signin"
    if 300 <= status < 400:
        location = urlsplit(response.headers.get("Location", ""))
        next_target = parse_qs(location.query).get("next", [""])[0]
        if location.path == "/auth/login" and urlsplit(next_target).path == path:
            return f"redirect-from-api-{status}" if api else "signin"
        return "ok"
    if 200 <= status < 300:
        return "ok"
    return {403: "forbidden", 404: "hidden", 400: "bad", 409: "bad", 422: "bad"}.get(
        status, str(status)
    )


def ask(client, adapter, rule, method: str, ids: dict, token: str):
    """One request to the rule with these ids: an empty body for a write, with its token."""
    unknown = sorted(set(rule.arguments) - set(ids))
    assert not unknown, f"{rule.rule}: no record for {unknown}; add one to tests/access_world.py"
    path = adapter.build(rule.endpoint, {name: ids[name] for name in rule.arguments}, method=method)
    if method == "GET":
        return path, client.get(path)
    headers = {"X-CSRFToken": token}
    if path.startswith("/api/"):
        return path, client.open(path, method=method, json={}, headers=headers)
    return path, client.open(path, method=method, data={"csrf_token": token}, headers=headers)


@pytest.fixture
def access_world(studio_clock, app, db, unit, make_user):
    other_unit = create_unit(db, name="另一个工作室")
    db.commit()
    return AccessWorld(app, db, unit, other_unit, make_user)


def walk(app, client, world, role: str, token: str):
    """Ask every cell of the URL map; yield (endpoint, method, scope, path, response)."""
    adapter = app.url_map.bind("localhost")
    for rule, method in url_map_cells(app):
        for scope in ("home", "away") if rule.arguments else ("home",):
            ids = world.ids(role, scope, rule.endpoint)
            path, response = ask(client, adapter, rule, method, ids, token)
            yield rule.endpoint, method, scope, path, response


def table_gaps(seen: dict, role: str) -> list[str]:
    """Routes the table lacks, with what they answered her, and rows for routes now gone."""
    gaps = [
        f"route missing from the access table: {endpoint} {method} "
        f"(as {role} it answered {'/'.join(answers)})"
        for (endpoint, method), answers in sorted(seen.items())
        if (endpoint, method) not in EXPECTED
    ]
    return gaps + [
        f"the access table declares a route the app lacks: {endpoint} {method}"
        for endpoint, method in sorted(EXPECTED.keys() - seen.keys())
    ]


def changed(what: str, before: dict, after: dict) -> list[str]:
    return [f"the walk changed {what}: {key}" for key in before if before[key] != after.get(key)]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_table_declares(app, db, client, access_world, role):
    token = sign_in(client, role)
    ledgers, accounts = ledger_state(db), account_state(db)
    wrong, seen = [], {}
    for endpoint, method, scope, path, response in walk(app, client, access_world, role, token):
        got = classify(path, response)
        seen.setdefault((endpoint, method), []).append(got)
        declared = EXPECTED.get((endpoint, method))
        want = declared and declared[role][0 if scope == "home" else 1]
        if declared and got != want:
            location = response.headers.get("Location", "")
            wrong.append(
                f"{endpoint} {method} {path} ({scope}) as {role}: declared {want}, "
                f"answered {got} ({response.status_code} {location})".replace(" )", ")")
            )
        # a refusal names nobody (an answer let through may be a file, not text)
        refused = got in REFUSALS
        named = [name for name in NAMES.values() if refused and name in response.text]
        if named:
            wrong.append(f"{endpoint} {method} {path} ({scope}) as {role}: {got}, naming {named}")
    messages = table_gaps(seen, role) + wrong
    # an empty body changes no ledger, so no cell's answer depends on the order of the walk
    messages += changed("the ledgers", ledgers, ledger_state(db))
    # an admin's one-click actions (reset a password, deactivate) change accounts by design
    if role != "admin":
        messages += changed("the account of", accounts, account_state(db))
    assert not messages, "\n".join(messages)
