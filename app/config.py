"""Configuration from the environment; refuses default secrets outside development."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

ENVIRONMENTS = ("development", "testing", "production")
# secrets that appear in docs or examples and must never protect real data
KNOWN_DEFAULTS = {"", "dev", "change-me", "changeme", "secret", "clover", "clover-demo"}


class ConfigError(RuntimeError):
    """The configuration cannot run safely."""


def _instance_secret(instance_path: Path, name: str, make) -> str:
    """A development secret generated once and kept under instance/."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _required_secret(name: str, min_length: int) -> str:
    value = os.environ.get(name, "")
    if value.lower() in KNOWN_DEFAULTS or len(value) < min_length:
        raise ConfigError(
            f"{name} must be set to a random value of at least {min_length} characters "
            "in production"
        )
    return value


def load_config(instance_path: Path) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = os.environ.get("CLOVER_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CLOVER_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    production = env == "production"
    if production:
        secret_key = _required_secret("SECRET_KEY", 32)
        data_key = _required_secret("CLOVER_DATA_KEY", 44)
        hash_key = _required_secret("CLOVER_HASH_KEY", 32)
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            raise ConfigError("DATABASE_URL must be set in production")
    else:
        secret_key = os.environ.get("SECRET_KEY") or _instance_secret(
            instance_path, "secret_key", lambda: secrets.token_urlsafe(48)
        )
        data_key = os.environ.get("CLOVER_DATA_KEY") or _instance_secret(
            instance_path, "data_key", lambda: Fernet.generate_key().decode()
        )
        hash_key = os.environ.get("CLOVER_HASH_KEY") or _instance_secret(
            instance_path, "hash_key", lambda: secrets.token_urlsafe(32)
        )
        database_url = os.environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'clover.db'}")
    idle_minutes = int(os.environ.get("CLOVER_IDLE_MINUTES", "480"))
    return {
        "CLOVER_ENV": env,
        "SECRET_KEY": secret_key,
        # comma-separated Fernet keys, newest first, so old keys still decrypt after rotation
        "CLOVER_DATA_KEY": data_key,
        # HMAC key for the duplicate-detection hash of ID-card numbers; never rotated
        # without rehashing, or duplicates slip through
        "CLOVER_HASH_KEY": hash_key,
        "DATABASE_URL": database_url,
        "CLOVER_TIMEZONE": os.environ.get("CLOVER_TIMEZONE", "Asia/Shanghai"),
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("CLOVER_TIMEZONE", "Asia/Shanghai"),
        "CLOVER_LOCALES": ("zh_Hans", "en"),
        "CLOVER_IDLE_TIMEOUT": timedelta(minutes=idle_minutes),
        # names this release in the service worker's cache (e.g. a git commit); optional
        "CLOVER_BUILD": os.environ.get("CLOVER_BUILD", ""),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=idle_minutes),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        # a form may sit open for a whole visit; the session bounds its life instead
        "WTF_CSRF_TIME_LIMIT": None,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
    }
