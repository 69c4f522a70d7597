"""The demo served on 127.0.0.1 for the benchmarks that drive a browser (bench.lighthouse,
bench.taps), and officer1's first sign-in on the phone there."""

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

from bench.network import load
from bench.seed import BENCH_ENV

PIN = "246810"
CHROME_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]


@contextmanager
def demo_server(name: str) -> Iterator[tuple[object, str, Path]]:
    """(app, base URL, working directory): the demo in a temporary SQLite database, served
    by a threaded server until the block ends."""
    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)
    work = Path(tempfile.mkdtemp(prefix=f"clover-bench-{name}-"))
    from app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{work}/{name}.db"})
    load(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}", work
    finally:
        server.shutdown()


def sign_in_on_the_phone(page, base: str) -> None:
    """officer1 signs in, sets her PIN as on a new phone, and her caseload is saved there."""
    from playwright.sync_api import expect

    from app.demo import DEMO_PASSWORD

    page.goto(f"{base}/auth/login")
    page.get_by_label("用户名").fill("officer1")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_label("PIN 码", exact=True).fill(PIN)
    page.get_by_label("再次输入 PIN 码").fill(PIN)
    page.get_by_role("button", name="保存 PIN 码").click()
    expect(page.get_by_role("heading", name="今日", level=1)).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-offline-state", "saved", timeout=60_000)
