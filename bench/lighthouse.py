"""Lighthouse on the officer's five main pages: `python -m bench.lighthouse`.

The demo is loaded into a temporary SQLite database (as `bench.network` does) and served
on 127.0.0.1 by a threaded server. Lighthouse (Node: `LIGHTHOUSE`, by default
`npx --yes lighthouse@12`) runs with its mobile defaults (a mid-range phone, simulated
slow 4G) in one Debian Chromium, reached over its debugging port: first the sign-in page
on a fresh profile; then, once officer1 has signed in there and set her PIN as on her
phone (Playwright drives that), Today, the people list, a ledger and the visit form as she
opens them during her day (the app installed, her offline store open; Lighthouse keeps the
browser's storage). It prints the performance and accessibility scores with the metrics
behind them, from the median of RUNS runs of each page (Lighthouse's own advice: one run
varies by several points); the budget is performance at least 95 and accessibility 100,
and the run exits non-zero when a page misses it.
"""

import json
import os
import shlex
import subprocess
from pathlib import Path

from bench.demo_server import CHROME_ARGS, demo_server, sign_in_on_the_phone

PERFORMANCE_BUDGET = 95
ACCESSIBILITY_BUDGET = 100
PORT = 9339  # Chromium's debugging port, shared by Playwright and Lighthouse
CHROME_FLAGS = ["--headless=new", "--no-sandbox", *CHROME_ARGS]
METRICS = {
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
}
RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", "3"))


def her_pages(app) -> list[tuple[str, str]]:
    """(name, path) of the four signed-in pages the budget covers."""
    from sqlmodel import Session, select

    from app.models import Person, User

    with Session(app.extensions["clover_engine"]) as session:
        officer = session.exec(select(User).where(User.username == "officer1")).one()
        person = session.exec(
            select(Person).where(Person.assigned_officer_id == officer.id).order_by(Person.name)
        ).first()
    return [
        ("Today", "/"),
        ("people list", "/people/"),
        ("ledger", f"/people/{person.id}"),
        ("visit form", f"/people/{person.id}/visits/new"),
    ]


def median_audit(url: str, out: Path) -> dict:
    """The report of the run with the median performance score."""
    reports = sorted(
        (audit(url, out) for _ in range(RUNS)),
        key=lambda report: report["categories"]["performance"]["score"],
    )
    return reports[len(reports) // 2]


def audit(url: str, out: Path) -> dict:
    command = shlex.split(os.environ.get("LIGHTHOUSE", "npx --yes lighthouse@12"))
    command += [
        url,
        f"--port={PORT}",
        "--disable-storage-reset",
        "--only-categories=performance,accessibility",
        "--output=json",
        f"--output-path={out}",
        "--quiet",
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def sign_in_in_the_browser(base: str) -> None:
    """officer1's first sign-in, in the Chromium Lighthouse runs in."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{PORT}")
        page = browser.contexts[0].new_page()
        sign_in_on_the_phone(page, base)
        page.close()
        browser.close()  # the connection only: Chromium and its storage stay


def score(name: str, report: dict, missed: list[str]) -> None:
    scores = {key: round(c["score"] * 100) for key, c in report["categories"].items()}
    figures = [report["audits"][key]["displayValue"] for key in METRICS]
    print(
        f"{name:<12} {scores['performance']:>5} {scores['accessibility']:>5} "
        + " ".join(f"{figure:>8}" for figure in figures)
    )
    if scores["performance"] < PERFORMANCE_BUDGET:
        missed.append(f"{name}: performance {scores['performance']}")
    if scores["accessibility"] < ACCESSIBILITY_BUDGET:
        audits = {ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"]}
        failing = [key for key in audits if report["audits"][key].get("score") == 0]
        missed.append(f"{name}: accessibility {scores['accessibility']} {failing}")


def main() -> int:
    with demo_server("lighthouse") as (app, base, work):
        chromium = subprocess.Popen(
            [
                os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                *CHROME_FLAGS,
                f"--remote-debugging-port={PORT}",
                f"--user-data-dir={work / 'profile'}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"Lighthouse, mobile defaults, officer1 of the demo, median of {RUNS} runs")
        metrics = " ".join(f"{m:>8}" for m in METRICS.values())
        print(f"{'page':<12} {'perf':>5} {'a11y':>5} {metrics}")
        missed: list[str] = []
        try:
            _wait_for_port()
            score("sign-in", median_audit(f"{base}/auth/login", work / "report.json"), missed)
            sign_in_in_the_browser(base)
            for name, path in her_pages(app):
                score(name, median_audit(base + path, work / "report.json"), missed)
        finally:
            chromium.terminate()
            chromium.wait()
    print(f"budget: performance >= {PERFORMANCE_BUDGET}, accessibility {ACCESSIBILITY_BUDGET}")
    for line in missed:
        print("MISSED", line)
    return 1 if missed else 0


def _wait_for_port() -> None:
    import socket
    import time

    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", PORT)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"Chromium's debugging port {PORT} did not open")


if __name__ == "__main__":
    raise SystemExit(main())
