"""gunicorn's settings for `make serve`: `gunicorn -c python:app.gunicorn_conf`.

Everything comes from the environment, as the app's own config does: PORT,
WEB_CONCURRENCY (workers), CLOVER_THREADS, CLOVER_TIMEOUT, CLOVER_PROXY_HOPS and
DATABASE_URL. gunicorn's own GUNICORN_CMD_ARGS still override any of these.
"""

import os

from app.config import ConfigError, database_pool


def default_workers(cores: int) -> int:
    """gunicorn's 2 x cores + 1, capped: each worker holds its own database pool."""
    return min(2 * cores + 1, 8)


def on_sqlite(environ) -> bool:
    url = environ.get("DATABASE_URL", "")
    return not url or url.startswith("sqlite")


def worker_count(environ, cores: int) -> int:
    """WEB_CONCURRENCY, or the default; one only on SQLite.

    SQLite takes a file lock for every write: several processes would wait on each other
    (and on the reminder timer) with nothing gained, so a SQLite database gets one worker,
    and asking for more is refused rather than quietly ignored.
    """
    asked = environ.get("WEB_CONCURRENCY")
    if on_sqlite(environ):
        if asked and int(asked) != 1:
            raise ConfigError(
                f"WEB_CONCURRENCY={asked} on SQLite: SQLite serves one worker; set "
                "DATABASE_URL to PostgreSQL for several workers, or WEB_CONCURRENCY=1"
            )
        return 1
    return max(1, int(asked)) if asked else default_workers(cores)


def trusted_proxies(environ) -> str:
    """The proxies whose X-Forwarded-Proto gunicorn believes: none unless CLOVER_PROXY_HOPS.

    gunicorn listens on 127.0.0.1 only, so a proxy in front of it runs on this machine;
    the app's ProxyFix reads the same headers for the same number of hops.
    """
    return "127.0.0.1,::1" if int(environ.get("CLOVER_PROXY_HOPS") or 0) else ""


wsgi_app = "app:create_app()"
bind = f"127.0.0.1:{int(os.environ.get('PORT') or 8000)}"
workers = worker_count(os.environ, os.cpu_count() or 1)
worker_class = "gthread"
threads = max(1, int(os.environ.get("CLOVER_THREADS") or 4))
# one connection per request thread, one more for a worker's background threads, unless
# set; each worker's app reads them when it builds its engine (app.config.database_pool)
raw_env = [
    f"{name}={value}"
    for name, value in (("CLOVER_DB_POOL_SIZE", threads), ("CLOVER_DB_MAX_OVERFLOW", 1))
    if not os.environ.get(name)
]
# every worker builds its own app and engine after the fork: no connection is shared
preload_app = False
# a sync push of 200 visits or a ledger export takes seconds, not a minute
timeout = int(os.environ.get("CLOVER_TIMEOUT") or 60)
graceful_timeout = 30
keepalive = 5
# a worker is replaced now and then, so a slow leak never grows for weeks
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = trusted_proxies(os.environ)
accesslog = "-"
errorlog = "-"
# the path without its query string: a search (?q=) would write a person's name here
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# the control socket's default path is one per user: two servers on one machine would share it
control_socket_disable = True
proc_name = f"clover:{bind}"


def when_ready(server) -> None:
    """Say how many database connections this server may open, for the sum in the README."""
    if not on_sqlite(os.environ):
        pool = database_pool(os.environ)
        per_worker = pool["CLOVER_DB_POOL_SIZE"] + pool["CLOVER_DB_MAX_OVERFLOW"]
        server.log.info(
            "%d workers x %d threads: at most %d database connections from this server",
            workers,
            threads,
            workers * per_worker,
        )
