"""Configuration: secrets refused in production, generated once in development."""

import pytest

from app.config import ConfigError, load_config

PROD_KEY = "a" * 20 + "-random-production-secret-value"
DATA_KEY = "x" * 44
HASH_KEY = "h" * 12 + "-random-hash-key-for-ids"


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("SECRET_KEY", "CLOVER_DATA_KEY", "CLOVER_HASH_KEY", "DATABASE_URL", "CLOVER_ENV"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


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


def test_production_with_real_secrets_starts(clean_env, tmp_path):
    clean_env.setenv("CLOVER_ENV", "production")
    clean_env.setenv("SECRET_KEY", PROD_KEY)
    clean_env.setenv("CLOVER_DATA_KEY", DATA_KEY)
    clean_env.setenv("CLOVER_HASH_KEY", HASH_KEY)
    clean_env.setenv("DATABASE_URL", "postgresql://db/clover")
    config = load_config(tmp_path)
    assert config["SECRET_KEY"] == PROD_KEY
    assert config["SESSION_COOKIE_SECURE"] is True


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
