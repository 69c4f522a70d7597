"""Run the benchmarks: `make bench` (SQLite) or `BENCH_DATABASE_URL=... make bench`.

Each figure is the median time of an operation divided by the median time of a baseline
measured in the same run on the same machine (rendering the sign-in page, which touches
no database), so the ratios hold from one machine to the next. A target is a ceiling on
that ratio; the run exits non-zero when one is missed.
"""

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from bench.seed import seed

# ratio ceilings: how many sign-in page renders each operation may cost at most. They
# are budgets set from the first measurements with about 25% headroom, so a regression
# shows; the ledger (template rendering of every entry) and a supervisor's Today over a
# whole city unit are the pages to make cheaper next (paging the timeline, summarising
# per officer).
TARGETS = {
    "officer Today (120 people)": 20.0,
    "people list page 1": 12.0,
    "ledger (150 visits)": 40.0,
    "supervisor due list (6,000 people)": 900.0,
}


def median_seconds(operation: Callable[[], object], repeat: int = 15) -> float:
    operation()  # warm caches and connection pools
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> int:
    os.environ.setdefault("CLOVER_ENV", "testing")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 32)
    workdir = tempfile.mkdtemp(prefix="clover-bench-")
    url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    from app import create_app

    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    print(f"seeding {url.split('@')[-1]} ...", flush=True)
    world = seed(app)
    officer, supervisor = app.test_client(), app.test_client()
    for client, username in ((officer, world.officer), (supervisor, world.supervisor)):
        response = client.post(
            "/auth/login", data={"username": username, "password": world.password}
        )
        assert response.status_code == 302, response.status_code

    anonymous = app.test_client()
    baseline = median_seconds(lambda: anonymous.get("/auth/login"))
    operations = {
        "officer Today (120 people)": lambda: officer.get("/"),
        "people list page 1": lambda: officer.get("/people/"),
        "ledger (150 visits)": lambda: officer.get(f"/people/{world.busy_person}"),
        "supervisor due list (6,000 people)": lambda: supervisor.get("/"),
    }
    print(f"baseline: sign-in page render, median {baseline * 1000:.2f} ms")
    print(f"{'operation':40} {'ratio':>8} {'target':>8}")
    missed = 0
    for name, operation in operations.items():
        ratio = median_seconds(operation, repeat=5 if "6,000" in name else 15) / baseline
        ok = ratio <= TARGETS[name]
        missed += not ok
        print(f"{name:40} {ratio:8.1f} {TARGETS[name]:8.1f} {'ok' if ok else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
