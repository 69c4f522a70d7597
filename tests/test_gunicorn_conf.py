"""`make serve`'s gunicorn settings, read from the environment as a deploy gives it."""

import importlib
import os

import pytest

from app.config import ConfigError, database_pool

PG = "postgresql+psycopg://clover@db.example/clover"


def settings(monkeypatch, **environ):
    """The settings module as gunicorn loads it under this environment."""
    for name in (
        "DATABASE_URL",
        "WEB_CONCURRENCY",
        "CLOVER_THREADS",
        "CLOVER_PROXY_HOPS",
        "CLOVER_DB_POOL_SIZE",
        "CLOVER_DB_MAX_OVERFLOW",
        "PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return importlib.reload(importlib.import_module("app.gunicorn_conf"))


def test_postgresql_gets_twice_the_cores_plus_one_workers_at_most_eight(monkeypatch):
    conf = settings(monkeypatch, DATABASE_URL=PG, WEB_CONCURRENCY="3", PORT="9001")
    assert [conf.default_workers(cores) for cores in (1, 2, 3, 4, 16)] == [3, 5, 7, 8, 8]
    assert conf.workers == 3
    assert conf.bind == "127.0.0.1:9001"
    assert conf.worker_class == "gthread" and conf.threads == 4
    assert conf.preload_app is False


def test_sqlite_serves_one_worker_and_refuses_more(monkeypatch):
    assert settings(monkeypatch, DATABASE_URL="sqlite:////srv/clover.db").workers == 1
    assert settings(monkeypatch).workers == 1  # development: instance/clover.db
    with pytest.raises(ConfigError, match="SQLite serves one worker"):
        settings(monkeypatch, DATABASE_URL="sqlite:////srv/clover.db", WEB_CONCURRENCY="4")


def test_each_worker_pools_one_connection_per_thread_plus_one(monkeypatch):
    conf = settings(monkeypatch, DATABASE_URL=PG, CLOVER_THREADS="6")
    assert conf.raw_env == ["CLOVER_DB_POOL_SIZE=6", "CLOVER_DB_MAX_OVERFLOW=1"]
    for line in conf.raw_env:
        name, value = line.split("=")
        monkeypatch.setenv(name, value)
    assert database_pool(dict(os.environ)) == {
        "CLOVER_DB_POOL_SIZE": 6,
        "CLOVER_DB_MAX_OVERFLOW": 1,
        "CLOVER_DB_POOL_TIMEOUT": 30,
        "CLOVER_DB_POOL_RECYCLE": 1800,
    }
    # a pool set for the deploy is kept as set
    conf = settings(monkeypatch, DATABASE_URL=PG, CLOVER_DB_POOL_SIZE="2")
    assert conf.raw_env == ["CLOVER_DB_MAX_OVERFLOW=1"]


def test_the_engine_takes_the_pool_from_the_config(app):
    engine = app.extensions["clover_engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps its own engine settings")
    assert engine.pool.size() == app.config["CLOVER_DB_POOL_SIZE"]
    assert engine.pool._max_overflow == app.config["CLOVER_DB_MAX_OVERFLOW"]
    assert engine.pool._recycle == app.config["CLOVER_DB_POOL_RECYCLE"]


@pytest.mark.parametrize(
    ("hops", "trusted"), [("0", ""), ("1", "127.0.0.1,::1"), ("2", "127.0.0.1,::1")]
)
def test_gunicorn_trusts_forwarded_headers_only_behind_a_proxy(monkeypatch, hops, trusted):
    assert settings(monkeypatch, CLOVER_PROXY_HOPS=hops).forwarded_allow_ips == trusted
