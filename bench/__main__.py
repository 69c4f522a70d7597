"""Run the benchmarks: `python -m bench` (one unit) or `python -m bench --city` (PostgreSQL).

Each figure is the median time of an operation divided by the median time of a baseline
measured in the same run on the same machine (rendering the sign-in page, which touches
no database), so the ratios hold from one machine to the next. A target is a ceiling on
that ratio; the run exits non-zero when one is missed.

`python -m bench` seeds 6,000 people in one unit on SQLite in a temporary directory, or
on BENCH_DATABASE_URL. `python -m bench --city` seeds 100,000 people and about 10 million
visits (`bench/city.py`) on BENCH_DATABASE_URL, which must be a PostgreSQL database of its
own: the seed empties it. `--reuse` measures a city seeded by an earlier run.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from bench.seed import BENCH_ENV, World, ensure_director

# ratio ceilings: how many sign-in page renders each page may cost at most, 20 at either
# size. The reports and the city view have no ceiling: they are read a few times a month,
# and their figures are printed to follow them.
TARGETS = {
    "officer Today": 20.0,
    "people list page 1": 20.0,
    "people search": 20.0,
    "ledger": 20.0,
    "supervisor home": 20.0,
    "sync pull, full caseload": 20.0,
}
PUSH_GOAL = 0.5  # the sync push at least half as fast as a raw INSERT of the same rows
PUSH_VISITS = 200


def median_seconds(operation: Callable[[], object], repeat: int = 15) -> float:
    operation()  # warm caches and connection pools
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def page(client, url: str, expect: str = "") -> Callable[[], object]:
    """A GET that must answer 200 (and show `expect`): a redirect is not a page."""

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.location)
        assert expect in response.text, (url, expect)
        return response

    return get


def download(client, url: str) -> Callable[[], object]:
    """A GET of a file that must answer 200."""

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


def sign_in(app, world: World, username: str):
    from app.auth.totp import Totp

    client = app.test_client()
    data = {"username": username, "password": world.password}
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302, response.status_code
    if response.location.endswith("/auth/second-factor"):
        code = Totp(world.totp_secret).at(time.time())
        response = client.post("/auth/second-factor", data={"code": code})
        assert response.status_code == 302, response.status_code
    return client


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--city", action="store_true", help="100,000 people (PostgreSQL)")
    parser.add_argument("--reuse", action="store_true", help="measure a city seeded before")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    from app.reminders.keys import generate_keys

    private_key, public_key = generate_keys()
    os.environ.update(
        CLOVER_VAPID_PRIVATE_KEY=private_key,
        CLOVER_VAPID_PUBLIC_KEY=public_key,
        CLOVER_VAPID_SUBJECT="mailto:bench@clover.test",
    )
    url = os.environ.get("BENCH_DATABASE_URL")
    if (args.city or args.reuse) and not (url or "").startswith("postgresql"):
        print("--city needs BENCH_DATABASE_URL=postgresql+psycopg://... (a database of its own)")
        return 2
    url = url or f"sqlite:///{tempfile.mkdtemp(prefix='clover-bench-')}/bench.db"
    from app import create_app

    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    where = url.split("@")[-1]
    started = time.perf_counter()
    if args.reuse:
        from bench.city import city_world

        world = city_world(app)
        print(f"reusing the city on {where}")
    else:
        print(f"seeding {where} ...", flush=True)
        if args.city:
            from bench.city import seed_city

            world = seed_city(app)
        else:
            from bench.seed import seed

            world = seed(app)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    print(f"{world.people:,} people, {world.visits:,} visits, {world.users:,} users")
    print(f"{world.shape}; the search is {world.search!r}")
    if world.check is not None:
        report = world.check
        print(
            f"check_due on a sample of {report.checked}: {len(report.differences)} differ "
            f"from the rules, {report.awaiting_refresh} awaiting the daily refresh"
        )
    return measure(app, world, TARGETS)


def measure(app, world: World, targets: dict) -> int:
    from app.supervision.dashboard import forget_kept_figures
    from bench.operations import pull, push_and_raw, reminder_planning

    officer = sign_in(app, world, world.officer)
    supervisor = sign_in(app, world, world.supervisor)
    anonymous = app.test_client()
    baseline = median_seconds(page(anonymous, "/auth/login"))
    operations = {
        "officer Today": page(officer, "/"),
        "people list page 1": page(officer, "/people/"),
        "people search": page(officer, f"/people/?q={world.search}"),
        "ledger": page(officer, f"/people/{world.busy_person}"),
        "supervisor home": page(supervisor, "/"),
        "sync pull, full caseload": lambda: pull(officer),
    }
    director = sign_in(app, world, ensure_director(app))

    def supervisor_home_anew():
        forget_kept_figures()  # what the first supervisor to open it after a change waits
        return page(supervisor, "/")()

    figures = {
        "supervisor home, figures anew": supervisor_home_anew,
        "monthly report, her unit": page(supervisor, "/reports/"),
        "monthly report .xlsx, her unit": download(supervisor, "/reports/report.xlsx"),
        "city view (director)": page(director, "/supervision/city"),
        "monthly report, every unit": page(director, "/reports/"),
    }
    print(f"baseline: sign-in page render, median {baseline * 1000:.2f} ms")
    print(f"{'operation':36} {'ratio':>9} {'target':>8}")
    missed = 0
    for name, operation in operations.items():
        repeat = 5 if name == "supervisor home" else 15
        ratio = median_seconds(operation, repeat=repeat) / baseline
        ok = ratio <= targets[name]
        missed += not ok
        print(f"{name:36} {ratio:9.1f} {targets[name]:8.1f} {'ok' if ok else 'MISSED'}")
    for name, operation in figures.items():
        print(f"{name:36} {median_seconds(operation, repeat=5) / baseline:9.1f}")
    push, raw, floor = push_and_raw(app, officer, world, PUSH_VISITS)
    print(f"{f'sync push, {PUSH_VISITS} visits':36} {push / baseline:9.1f}")
    print(f"{f'raw INSERT, the same {PUSH_VISITS} rows':36} {raw / baseline:9.1f}")
    print(f"{'raw INSERT with their audit rows':36} {floor / baseline:9.1f}")
    # the most the push could reach: every visit also writes its chained audit row
    print(f"{'  audited: share of raw insert speed':36} {raw / floor:8.1%}")
    share = raw / push
    ok = share >= PUSH_GOAL
    missed += not ok
    print(
        f"{'push: share of raw insert speed':36} {share:8.1%} {PUSH_GOAL:8.0%} "
        f"{'ok' if ok else 'MISSED'}"
    )
    seconds, users, planned = reminder_planning(app)
    print(f"{f'reminder planning, {users:,} users':36} {seconds / baseline:9.0f}")
    print(f"{'  per user':36} {seconds / users / baseline:9.2f}")
    print(f"  ({seconds:.1f} s for {users:,} users, {planned:,} reminders planned)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
