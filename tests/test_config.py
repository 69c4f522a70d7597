"""Configuration: secrets refused in production, generated once in development."""

import pytest

from app.config import ConfigError, load_config
from app.reminders.keys import generate_keys

PROD_KEY = "a" * 20 + "-random-production-secret-value"
DATA_KEY = "x" * 44
HASH_KEY = "h" * 12 + "-random-hash-key-for-ids"
VAPID_PRIVATE, VAPID_PUBLIC = generate_keys()
VAPID_NAMES = ("CLOVER_VAPID_PRIVATE_KEY", "CLOVER_VAPID_PUBLIC_KEY", "CLOVER_VAPID_SUBJECT")


@pytest.fixture
def clean_env(monkeypatch):
    names = ("SECRET_KEY", "CLOVER_DATA_KEY", "CLOVER_HASH_KEY", "DATABASE_URL", "CLOVER_ENV")
    for name in (*names, *VAPID_NAMES):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def production_env(clean_env):
    """Every production setting but the Web Push ones."""
    clean_env.setenv("CLOVER_ENV", "production")
    clean_env.setenv("SECRET_KEY", PROD_KEY)
    clean_env.setenv("CLOVER_DATA_KEY", DATA_KEY)
    clean_env.setenv("CLOVER_HASH_KEY", HASH_KEY)
    clean_env.setenv("DATABASE_URL", "postgresql://db/clover")
    return clean_env


def set_vapid(env, private=VAPID_PRIVATE, public=VAPID_PUBLIC, subject="mailto:ops@example.org"):
    env.setenv("CLOVER_VAPID_PRIVATE_KEY", private)
    env.setenv("CLOVER_VAPID_PUBLIC_KEY", public)
    env.setenv("CLOVER_VAPID_SUBJECT", subject)


@pytest.mark.parametrize("secret", [None, "", "dev", "change-me", "short"])
def test_production_refuses_missing_or_default_secret_key(clean_env, tmp_path, secret):
    clean_env.setenv("CLOVER_ENV", "production")
    clean_env.setenv("DATABASE_URL", "postgresql://db/clover")
    clean_env.setenv("CLOVER_DATA_KEY", DATA_KEY)
    clean_env.setenv("CLOVER_HASH_KEY", HASH_KEY)
    if secret is not None:
        clean_env.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_needs_a_database_url(clean_env, tmp_path):
    clean_env.setenv("CLOVER_ENV", "production")
    clean_env.setenv("SECRET_KEY", PROD_KEY)
    clean_env.setenv("CLOVER_DATA_KEY", DATA_KEY)
    clean_env.setenv("CLOVER_HASH_KEY", HASH_KEY)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config(tmp_path)


def test_production_with_real_secrets_starts(production_env, tmp_path):
    set_vapid(production_env)
    config = load_config(tmp_path)
    assert config["SECRET_KEY"] == PROD_KEY
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CLOVER_VAPID_PUBLIC_KEY"] == VAPID_PUBLIC
    assert config["CLOVER_SMS_URL"] is None  # SMS is off unless a gateway is set


def test_production_without_push_keys_is_a_clear_startup_error(production_env, tmp_path):
    with pytest.raises(ConfigError, match="VAPID key pair in production"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"public": generate_keys()[1]}, "does not match"),
        ({"private": "not-a-key"}, "not a base64url P-256 private key"),
        ({"public": ""}, "set both"),
        ({"subject": "ops@example.org"}, "CLOVER_VAPID_SUBJECT must be a mailto:"),
    ],
)
def test_production_refuses_broken_push_keys(production_env, tmp_path, change, message):
    set_vapid(production_env, **change)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_push_keys_from_instance_when_the_environment_has_none(runner, clean_env, tmp_path):
    """`flask push keys` writes the pair under instance/; the config reads it from there."""
    assert load_config(tmp_path)["CLOVER_VAPID_PRIVATE_KEY"] is None  # push off, no crash
    runner.app.instance_path = str(tmp_path)
    result = runner.invoke(args=["push", "keys"])
    assert "new VAPID keys written" in result.output
    config = load_config(tmp_path)
    assert config["CLOVER_VAPID_PUBLIC_KEY"] in result.output
    assert (tmp_path / "vapid_private_key").stat().st_mode & 0o077 == 0
    again = runner.invoke(args=["push", "keys"])
    assert "already under" in again.output
    assert load_config(tmp_path)["CLOVER_VAPID_PRIVATE_KEY"] == config["CLOVER_VAPID_PRIVATE_KEY"]


@pytest.mark.parametrize("hash_key", [None, "", "secret", "too-short-for-a-key"])
def test_production_refuses_a_missing_or_weak_hash_key(clean_env, tmp_path, hash_key):
    clean_env.setenv("CLOVER_ENV", "production")
    clean_env.setenv("SECRET_KEY", PROD_KEY)
    clean_env.setenv("CLOVER_DATA_KEY", DATA_KEY)
    clean_env.setenv("DATABASE_URL", "postgresql://db/clover")
    if hash_key is not None:
        clean_env.setenv("CLOVER_HASH_KEY", hash_key)
    with pytest.raises(ConfigError, match="CLOVER_HASH_KEY"):
        load_config(tmp_path)
    assert not (tmp_path / "hash_key").exists()


def test_development_generates_a_secret_once_and_keeps_it(clean_env, tmp_path):
    first = load_config(tmp_path)
    second = load_config(tmp_path)
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["CLOVER_HASH_KEY"]) >= 32
    assert first["CLOVER_HASH_KEY"] == second["CLOVER_HASH_KEY"]
    assert (tmp_path / "hash_key").stat().st_mode & 0o077 == 0
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'clover.db'}"
    assert first["CLOVER_TIMEZONE"] == "Asia/Shanghai"


def test_unknown_environment_is_refused(clean_env, tmp_path):
    clean_env.setenv("CLOVER_ENV", "staging")
    with pytest.raises(ConfigError, match="CLOVER_ENV"):
        load_config(tmp_path)
