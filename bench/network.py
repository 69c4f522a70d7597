"""Bytes on the wire for officer1 of the demo: `python -m bench.network`.

The demo is loaded into a temporary SQLite database (as `python -m bench` seeds its own),
and the app is asked what a phone asks, with `Accept-Encoding: gzip, br` as a browser
sends it. A cold open is the first on a phone: Today and the files it links, the service
worker and everything it precaches (fetched again, bypassing the HTTP cache, as the worker
does), the sync cursor, the listing of her offline pages and every one of them. A warm
open is the next one with nothing changed: Today, the worker's update check, the sync
pull, a new cursor and the listing; static files come from the cache (immutable). Each
figure counts response bodies and headers; "before" is what the same open cost without
compression, versions and hashed static URLs (every page again, static files revalidated).
"""

import gzip
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench.seed import BENCH_ENV

ENCODINGS = "gzip, br"
STATIC_LINK = re.compile(r'(?:src|href)="(/static/[^"]+)"')
SHELL = re.compile(r"self\.CLOVER_SHELL = (\{.*\});")


@dataclass
class Tally:
    """What one open cost: requests, body bytes and header bytes."""

    requests: int = 0
    body: int = 0
    headers: int = 0
    urls: list[str] = field(default_factory=list)
    listed: int = 0  # pages the listing names

    def add(self, url: str, response) -> None:
        self.requests += 1
        self.body += len(response.get_data())
        status = f"HTTP/1.1 {response.status}\r\n"
        lines = "".join(f"{name}: {value}\r\n" for name, value in response.headers.items())
        self.headers += len(status) + len(lines) + 2
        self.urls.append(url)
        response.close()

    @property
    def total(self) -> int:
        return self.body + self.headers


def kib(size: int) -> str:
    return f"{size / 1024:,.1f} KiB"


def settle(app, minutes: int = 60) -> None:
    """As if the demo was loaded a while ago: the sync pull's overlap finds nobody."""
    from sqlmodel import Session

    from app.models import Assignment, Consent, Person, StatusChange, SupportPlan, Visit
    from app.types import utcnow

    then = utcnow() - timedelta(minutes=minutes)
    touched = (
        (Person, "updated_at"),
        (Visit, "updated_at"),
        (Consent, "created_at"),
        (SupportPlan, "created_at"),
        (StatusChange, "created_at"),
        (Assignment, "created_at"),
    )
    with Session(app.extensions["clover_engine"]) as session:
        for model, name in touched:
            table = model.__table__
            session.exec(table.update().where(table.c[name] > then).values({name: then}))
        session.commit()


def load(app) -> None:
    from sqlmodel import Session

    from app import migrate
    from app.demo import load_demo

    engine = app.extensions["clover_engine"]
    migrate.upgrade(engine)
    with app.app_context(), Session(engine) as session:
        load_demo(session, environment="development")
        session.commit()
    settle(app)


def sign_in(app, username: str):
    from app.demo import DEMO_PASSWORD

    client = app.test_client()
    data = {"username": username, "password": DEMO_PASSWORD}
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302, response.status_code
    return client


def get(client, tally: Tally, url: str, encoding: str, headers: dict | None = None):
    response = client.get(url, headers={"Accept-Encoding": encoding, **(headers or {})})
    assert response.status_code in (200, 304), (url, response.status_code)
    data = response.get_data()
    tally.add(url, response)
    return response, data


def decoded(response, data: bytes) -> bytes:
    import brotli

    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "gzip":
        return gzip.decompress(data)
    return data


def app_open(client, *, encoding: str, cold: bool, every_page: bool, pull: bool) -> Tally:
    """One open of the app, as the phone makes it."""
    tally = Tally()
    today, data = get(client, tally, "/", encoding)
    html = decoded(today, data).decode()
    worker, data = get(client, tally, "/sw.js", encoding)
    shell = json.loads(SHELL.search(decoded(worker, data).decode())[1])
    if cold:
        for url in dict.fromkeys(STATIC_LINK.findall(html)):
            get(client, tally, url, encoding)
        # the worker installs: every precached URL again, past the HTTP cache
        for url in shell["precache"]:
            get(client, tally, url, encoding)
    elif every_page:
        # before: static files had no hash, so each was revalidated (a 304 each)
        for url in dict.fromkeys(STATIC_LINK.findall(html)):
            first = client.get(url)
            etag = first.headers.get("ETag")
            first.close()
            get(client, tally, url, encoding, {"If-None-Match": etag})
    if pull:
        answer, data = get(client, tally, "/api/v1/sync/pull", encoding)
        cursor = json.loads(decoded(answer, data))["cursor"]
        get(client, tally, f"/api/v1/sync/pull?cursor={cursor}", encoding)
    listing, data = get(client, tally, "/api/v1/offline/pages", encoding)
    pages = json.loads(decoded(listing, data))["pages"]
    tally.listed = len(pages)
    if cold or every_page:
        for page in pages:
            get(client, tally, page["url"], encoding)
    return tally


def javascript(client) -> tuple[int, int, int]:
    """Every script under static/js: raw, gzipped and brotli as served."""
    raw = packed_gzip = packed_br = 0
    for path in sorted(Path(client.application.static_folder, "js").glob("*.js")):
        url = f"/static/js/{path.name}"
        for encoding in ("identity", "gzip", "br"):
            response = client.get(url, headers={"Accept-Encoding": encoding})
            size = len(response.get_data())
            response.close()
            if encoding == "identity":
                raw += size
            elif encoding == "gzip":
                packed_gzip += size
            else:
                packed_br += size
    return raw, packed_gzip, packed_br


def main() -> int:
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    url = f"sqlite:///{tempfile.mkdtemp(prefix='clover-bench-net-')}/network.db"
    from app import create_app

    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    load(app)
    client = sign_in(app, "officer1")

    cold = app_open(client, encoding=ENCODINGS, cold=True, every_page=True, pull=True)
    warm = app_open(client, encoding=ENCODINGS, cold=False, every_page=False, pull=True)
    before_cold = app_open(client, encoding="identity", cold=True, every_page=True, pull=True)
    before_warm = app_open(client, encoding="identity", cold=False, every_page=True, pull=True)

    print("officer1 of the demo, bytes on the wire (bodies + response headers)")
    print(f"{'':<38}{'requests':>9}{'bodies':>14}{'total':>14}")
    rows = [
        ("cold open, before (uncompressed)", before_cold),
        ("cold open, now (gzip, br)", cold),
        ("warm open, before (every page again)", before_warm),
        ("warm open, now (nothing changed)", warm),
    ]
    for label, tally in rows:
        print(f"{label:<38}{tally.requests:>9}{kib(tally.body):>14}{kib(tally.total):>14}")
    fetched = sum(1 for url in warm.urls if url != "/" and not url.startswith(("/api/", "/sw")))
    print(f"her offline copy: {cold.listed} pages; fetched again on the warm open: {fetched}")
    raw, packed_gzip, packed_br = javascript(client)
    print(
        f"static/js: {kib(raw)} raw, {kib(packed_gzip)} gzipped ({packed_gzip / raw:.0%}), "
        f"{kib(packed_br)} brotli ({packed_br / raw:.0%})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
