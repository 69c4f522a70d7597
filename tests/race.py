"""Writers racing on a live server: N signed-in HTTP sessions released together.

SQLite serialises writers, so a read-then-write race only shows on PostgreSQL; the same
races run on both, and on both exactly one writer of a base version may win.
"""

import os
import re
import threading
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlparse

import requests

from tests.conftest import PASSWORD, answer_second_factor, csrf_from
from tests.sync_world import page_token

WRITERS = 20
# races are real on PostgreSQL: several rounds there; SQLite serialises writers, so one
# round checks the answers without spending CI time on races that cannot happen
ROUNDS = 3 if os.environ.get("TEST_DATABASE_URL") else 1
TIMEOUT = 60


class Writers:
    """One user signed in once, her cookies copied into one HTTP session per writer."""

    def __init__(self, base_url: str, username: str, count: int = WRITERS):
        self.base_url, self.count = base_url, count
        first = requests.Session()
        login = first.get(f"{base_url}/auth/login", timeout=TIMEOUT).text
        answer = first.post(
            f"{base_url}/auth/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(login)},
            timeout=TIMEOUT,
        )
        answer_second_factor(first, base_url, answer)
        # the page's token is bound to the session cookie, which every writer shares
        self.token = page_token(first.get(f"{base_url}/", timeout=TIMEOUT).text)
        self.sessions = [first]
        for _ in range(count - 1):
            writer = requests.Session()
            writer.cookies = first.cookies.copy()
            self.sessions.append(writer)

    def race(self, send: Callable[[int, requests.Session], requests.Response]) -> list:
        """Run `send(n, session)` for every writer n at once; the answers in writer order."""
        start = threading.Barrier(self.count, timeout=TIMEOUT)
        answers: list = [None] * self.count
        failures: list[BaseException] = []

        def run(n: int) -> None:
            try:
                start.wait()
                answers[n] = send(n, self.sessions[n])
            except BaseException as failure:  # noqa: BLE001 - reported by the test below
                failures.append(failure)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(self.count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2 * TIMEOUT)
        assert not failures, failures
        assert all(answer is not None for answer in answers), "a writer never finished"
        return answers

    def post_forms(self, path: str, form: Callable[[int], dict]) -> list[requests.Response]:
        """Every writer posts her own form to `path`, as a browser would; no redirect followed."""
        url = f"{self.base_url}{path}"
        return self.race(
            lambda n, session: session.post(
                url,
                data={**form(n), "csrf_token": self.token},
                allow_redirects=False,
                timeout=TIMEOUT,
            )
        )

    def opened(self, path: str, name: str) -> int:
        """The version a form carries when it is opened: its hidden field `name`."""
        page = self.sessions[0].get(f"{self.base_url}{path}", timeout=TIMEOUT)
        assert page.status_code == 200, page.status_code
        return int(hidden_value(page.text, name))

    def push(self, item: Callable[[int], dict]) -> list[dict]:
        """Every writer pushes a batch of her own one item; the item results in writer order."""
        url, headers = f"{self.base_url}/api/v1/sync/push", {"X-CSRFToken": self.token}

        def send(n, session):
            return session.post(url, json={"items": [item(n)]}, headers=headers, timeout=TIMEOUT)

        answers = self.race(send)
        assert [a.status_code for a in answers] == [200] * self.count, _codes(answers)
        results = [a.json()["results"] for a in answers]
        assert all(len(r) == 1 for r in results), results
        return [r[0] for r in results]

    def push_one(self, item: dict) -> dict:
        """One item pushed by the first writer alone (to set the scene)."""
        response = self.sessions[0].post(
            f"{self.base_url}/api/v1/sync/push",
            json={"items": [item]},
            headers={"X-CSRFToken": self.token},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        return response.json()["results"][0]


def hidden_value(html: str, name: str) -> str:
    """The value of the hidden input `name` on a page."""
    for tag in re.findall(r"<input\b[^>]*>", html):
        if f'name="{name}"' in tag and 'type="hidden"' in tag:
            value = re.search(r'value="([^"]*)"', tag)
            return value.group(1) if value else ""
    raise AssertionError(f"no hidden field {name!r} on the page")


def _codes(answers: list[requests.Response]) -> Counter:
    return Counter(a.status_code for a in answers)


def where(response: requests.Response) -> str:
    """The path a redirect points to, without query or fragment."""
    return urlparse(response.headers.get("Location", "")).path


def answer_label(response: requests.Response) -> str:
    """A form answer as a person would see it: the status and, for a redirect, where to."""
    if response.is_redirect:
        target = where(response)
        kind = "conflict" if target.startswith("/sync/conflicts/") else target.split("/")[1]
        return f"{response.status_code} to {kind}"
    return str(response.status_code)


def sole_winner(labels: list[str], won: str, lost: str) -> int:
    """The one writer answered `won`, every other answered `lost`; none saw a server error."""
    seen = Counter(labels)
    assert not [label for label in labels if label.startswith("5")], seen
    assert seen == Counter({won: 1, lost: len(labels) - 1}), seen
    return labels.index(won)


def report(kind: str, round_: int, labels: list[str], database: str) -> None:
    """The answers of one round, for the run's log (seen with `pytest -s`)."""
    tally = ", ".join(f"{label} x{n}" for label, n in sorted(Counter(labels).items()))
    print(f"[race] {kind} round {round_ + 1} on {database}: {tally}")
