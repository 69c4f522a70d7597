"""Reminder throughput against a local push service: `python -m bench.reminders`.

A push service runs in a process of its own on 127.0.0.1: it checks each POST the way a
real one does (the VAPID JWT: signature, audience, expiry; the aes128gcm body, decrypted
with the subscription's key, playing the browser) and answers 201 after a simulated
network round trip (`--latency-ms`, 5 by default). In the same run, to the same service:

  (a)  a plain sequential pywebpush loop over every subscription: the baseline;
  (a') the same loop sharing one requests.Session (for reference);
  (b)  Clover's dispatcher with one worker;
  (c)  Clover's dispatcher with the pool (CLOVER_REMINDER_WORKERS, 8 by default).

The dispatcher is timed from the planned digests to the closed ledger: the claim in the
ledger, the sends, the delivery log (`sending.dispatch`); working out who is due is the
due list's business and is not timed here. Ratios are throughputs over (a); the goals
are (b)/(a) >= 1 and (c)/(a) >= 4, and the run exits non-zero when one is missed.
SQLite in a temporary directory by default; BENCH_DATABASE_URL for PostgreSQL (its own
database: the run adds a unit of bench users, and removes them at the end).
"""

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

SUBJECT = "mailto:bench@clover.test"
DETAILS = {"overdue": 1, "due_today": 2}  # what each digest says: 今日应访 2 人，逾期 1 人
GOALS = {"(b) Clover, 1 worker": 1.0, "(c) Clover, pool": 4.0}


# --- the push service, in its own process --------------------------------------------


def _serve(keys: dict, vapid_public: str, latency: float, ports) -> None:
    """Accept Web Push POSTs until terminated; GET /stats tells what arrived."""
    from py_vapid.jwt import decode as decode_jwt

    browsers = {
        path: (ec.derive_private_key(value, ec.SECP256R1()), auth)
        for path, (value, auth) in keys.items()
    }
    lock = threading.Lock()
    stats = {"received": 0, "decrypted": 0, "errors": 0, "connections": 0, "most": 0}
    tokens: set[str] = set()  # a token verified once is trusted again, as services do
    active = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real push service

        def setup(self):
            super().setup()
            with lock:
                stats["connections"] += 1

        def do_GET(self):  # noqa: N802 - http.server's name
            with lock:
                body = json.dumps(stats).encode()
                stats["most"] = active[0]  # the most in flight, from one look to the next
            self._answer(200, body)

        def do_POST(self):  # noqa: N802
            with lock:
                active[0] += 1
                stats["received"] += 1
                stats["most"] = max(stats["most"], active[0])
            try:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = self._check(body)
                time.sleep(latency)  # the network's round trip
                with lock:
                    stats["decrypted" if ok else "errors"] += 1
                self._answer(201 if ok else 400)
            finally:
                with lock:
                    active[0] -= 1

        def _check(self, body: bytes) -> bool:
            try:
                scheme, _, params = self.headers["Authorization"].partition(" ")
                parts = dict(part.split("=", 1) for part in params.split(","))
                assert scheme == "vapid" and parts["k"] == vapid_public
                if parts["t"] not in tokens:
                    claims = decode_jwt(parts["t"], vapid_public)
                    assert claims["aud"] == origin and claims["exp"] > time.time()
                    assert claims["sub"] == SUBJECT
                    with lock:
                        tokens.add(parts["t"])
                assert self.headers["Content-Encoding"] == "aes128gcm"
                assert int(self.headers["TTL"]) > 0
                private_key, auth = browsers[self.path]
                plain = http_ece.decrypt(
                    body, private_key=private_key, auth_secret=auth, version="aes128gcm"
                )
                return json.loads(plain)["tag"] == "digest"
            except Exception:  # noqa: BLE001 - counted, and answered 400
                return False

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    origin = f"http://127.0.0.1:{server.server_port}"
    ports.put(server.server_port)
    server.serve_forever()


def start_push_service(count: int, vapid_public: str, latency: float):
    """The service process, and `count` browser subscriptions (endpoint and keys) it knows."""
    keys, subscriptions = {}, []
    for index in range(count):
        private = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        path = f"/push/{index}-{uuid.uuid4().hex[:8]}"
        keys[path] = (private.private_numbers().private_value, auth)
        public = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        subscriptions.append((path, public, auth))
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    process = context.Process(
        target=_serve, args=(keys, vapid_public, latency, ports), name="bench-push-service"
    )
    process.start()
    origin = f"http://127.0.0.1:{ports.get(timeout=60)}"
    return process, origin, subscriptions


def service_stats(origin: str) -> dict:
    import requests

    return requests.get(f"{origin}/stats", timeout=10).json()


# --- the run ----------------------------------------------------------------------------


def seed(engine, origin: str, subscriptions: list) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A unit of officers, each with one push subscription at the local service."""
    from sqlalchemy import insert
    from sqlmodel import Session, SQLModel

    from app.models import PushSubscription, Unit, User
    from app.reminders.keys import b64url
    from app.types import utcnow

    SQLModel.metadata.create_all(engine)
    now, run = utcnow(), uuid.uuid4().hex[:8]
    unit = Unit(name=f"reminder bench {run}")
    users = [
        {
            "id": uuid.uuid4(),
            "username": f"push-bench-{run}-{n}",
            "display_name": f"警官{n}",
            "role": "officer",
            "unit_id": unit.id,
            "password_hash": "!",  # nobody signs in
            "created_at": now,
            "updated_at": now,
        }
        for n in range(len(subscriptions))
    ]
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": user["id"],
            "endpoint": origin + path,
            "p256dh": b64url(public),
            "auth": b64url(auth),
            "label": "Android · Chrome",
            "created_at": now,
        }
        for user, (path, public, auth) in zip(users, subscriptions, strict=True)
    ]
    with Session(engine) as session:
        session.add(unit)
        session.commit()
        session.execute(insert(User), users)
        session.execute(insert(PushSubscription), rows)
        session.commit()
    return users[0]["unit_id"], [user["id"] for user in users]


def remove(engine, unit_id: uuid.UUID, user_ids: list[uuid.UUID]) -> None:
    """Take the bench's rows out of a database that is not a throwaway one."""
    from sqlalchemy import delete, select
    from sqlmodel import Session

    from app.models import PushSubscription, Reminder, ReminderDelivery, Unit, User

    with Session(engine) as session:
        mine = select(Reminder.id).where(Reminder.user_id.in_(user_ids))
        session.execute(delete(ReminderDelivery).where(ReminderDelivery.reminder_id.in_(mine)))
        for model, column in (
            (Reminder, Reminder.user_id),
            (PushSubscription, PushSubscription.user_id),
        ):
            session.execute(delete(model).where(column.in_(user_ids)))
        session.execute(delete(User).where(User.id.in_(user_ids)))
        session.execute(delete(Unit).where(Unit.id == unit_id))
        session.commit()


def plain_loop(infos: list[dict], private_key: str, *, shared: bool) -> None:
    """What a script with pywebpush does: one webpush() after another."""
    import requests
    from py_vapid import Vapid
    from pywebpush import webpush

    from app.reminders.messages import DAY

    vapid = Vapid.from_string(private_key)
    data = json.dumps(
        {
            "title": "三叶草",
            "body": "今日应访 2 人，逾期 1 人",
            "url": "/",
            "tag": "digest",
            "count": 3,
        },
        ensure_ascii=False,
    )
    http = requests.Session() if shared else None
    for info in infos:
        webpush(
            subscription_info=info,
            data=data,
            vapid_private_key=vapid,
            vapid_claims={"sub": SUBJECT},
            ttl=DAY,
            timeout=10,
            headers={"Urgency": "normal", "Content-Type": "application/octet-stream"},
            requests_session=http,
        )


def clover(app, user_ids: list[uuid.UUID], day, workers: int) -> None:
    """Clover's dispatcher over one digest per user: claim, send, log."""
    from sqlmodel import Session

    from app.models import Reminder, ReminderKind, ReminderStatus
    from app.reminders.channels import build_channels, http_session
    from app.reminders.sending import dispatch
    from app.types import utcnow

    now = utcnow()
    planned = [
        Reminder(
            user_id=user_id,
            kind=ReminderKind.digest,
            day=day,
            status=ReminderStatus.sending,
            not_before=now,
            details=DETAILS,
        )
        for user_id in user_ids
    ]
    engine = app.extensions["clover_engine"]
    with (
        app.app_context(),
        Session(engine, expire_on_commit=False) as session,
        http_session(workers) as http,
    ):
        channels = build_channels(app.config, http)
        lease = app.config["CLOVER_REMINDER_LEASE"]
        summary = dispatch(
            session, planned, now=now, lease=lease, channels=channels, workers=workers
        )
    assert summary == {("digest", "sent"): len(user_ids)}, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=2000, help="users, one subscription each")
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=None, help="default: the app's config")
    parser.add_argument("--rounds", type=int, default=1, help="medians over several rounds")
    args = parser.parse_args()

    from app.reminders.keys import generate_keys

    private_key, public_key = generate_keys()
    os.environ.update(
        CLOVER_VAPID_PRIVATE_KEY=private_key,
        CLOVER_VAPID_PUBLIC_KEY=public_key,
        CLOVER_VAPID_SUBJECT=SUBJECT,
    )
    os.environ.setdefault("CLOVER_ENV", "testing")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 32)
    os.environ.setdefault("CLOVER_DATA_KEY", Fernet.generate_key().decode())
    os.environ.setdefault("CLOVER_HASH_KEY", "bench-hash-key-" + "h" * 32)
    process, origin, subscriptions = start_push_service(
        args.users, public_key, args.latency_ms / 1000
    )
    from app import create_app
    from app.reminders.keys import b64url
    from app.types import utcnow

    workdir = tempfile.mkdtemp(prefix="clover-bench-reminders-")
    url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.db")
    app = create_app({"DATABASE_URL": url})
    workers = args.workers or app.config["CLOVER_REMINDER_WORKERS"]
    engine = app.extensions["clover_engine"]
    unit_id, user_ids = seed(engine, origin, subscriptions)
    infos = [
        {"endpoint": origin + path, "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}
        for path, public, auth in subscriptions
    ]
    modes = {
        "(a) plain pywebpush loop": lambda _day: plain_loop(infos, private_key, shared=False),
        "(a') plain loop, one session": lambda _day: plain_loop(infos, private_key, shared=True),
        "(b) Clover, 1 worker": lambda day: clover(app, user_ids, day, 1),
        "(c) Clover, pool": lambda day: clover(app, user_ids, day, workers),
    }
    seconds = {name: [] for name in modes}
    seen = {}
    load_before = os.getloadavg()
    try:
        print(
            f"{args.users} subscriptions on {url.split('@')[-1]}; push service {origin}, "
            f"{args.latency_ms:g} ms a request, every message decrypted; pool of {workers}",
            flush=True,
        )
        first_day = utcnow().date()
        for round_number in range(args.rounds):
            for index, (name, run) in enumerate(modes.items()):
                before = service_stats(origin)
                start = time.perf_counter()
                run(first_day + timedelta(days=round_number * len(modes) + index))
                seconds[name].append(time.perf_counter() - start)
                after = service_stats(origin)
                delta = {key: after[key] - before[key] for key in ("decrypted", "errors")}
                assert delta == {"decrypted": args.users, "errors": 0}, (name, delta)
                seen[name] = (after["connections"] - before["connections"], after["most"])
                print(f"  {name}: {seconds[name][-1]:.2f} s", flush=True)
    finally:
        if not url.startswith("sqlite"):
            remove(engine, unit_id, user_ids)
        engine.dispose()
        process.terminate()
        process.join(timeout=10)
    baseline = args.users / statistics.median(seconds["(a) plain pywebpush loop"])
    print(f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    print(f"{'mode':32} {'sends/s':>8} {'ratio':>6} {'goal':>5} {'connections':>11} {'at once':>7}")
    missed = 0
    for name in modes:
        throughput = args.users / statistics.median(seconds[name])
        ratio = throughput / baseline
        goal = GOALS.get(name)
        verdict = "" if goal is None else ("ok" if ratio >= goal else "MISSED")
        missed += verdict == "MISSED"
        print(
            f"{name:32} {throughput:8.0f} {ratio:6.2f} {goal or '':>5} "
            f"{seen[name][0]:11d} {seen[name][1]:7d} {verdict}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
