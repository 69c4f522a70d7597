"""Configuration from the environment; refuses default secrets outside development."""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

ENVIRONMENTS = ("development", "testing", "production")
# secrets that appear in docs or examples and must never protect real data
KNOWN_DEFAULTS = {
    "",
    "dev",
    "change-me",
    "changeme",
    "secret",
    "clover",
    "clover-demo",
    "clover-demo-2026",
}


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


def _vapid_keys(instance_path: Path, production: bool) -> dict:
    """Web Push keys from the environment or from instance/ (written by `flask push keys`)."""
    from app.reminders.keys import VapidKeyError, read_keys

    try:
        keys = read_keys(os.environ, instance_path)
    except VapidKeyError as error:
        raise ConfigError(str(error)) from error
    subject = os.environ.get("CLOVER_VAPID_SUBJECT", "")
    if production:
        if keys is None:
            raise ConfigError(
                "Web Push needs a VAPID key pair in production: set CLOVER_VAPID_PRIVATE_KEY "
                "and CLOVER_VAPID_PUBLIC_KEY (make a pair with `python -m app.reminders.keys`)"
            )
        if not subject.startswith(("mailto:", "https://")):
            raise ConfigError(
                "CLOVER_VAPID_SUBJECT must be a mailto: address (or https: URL) in production, "
                "so push services can reach whoever runs Clover"
            )
    private_key, public_key = keys or (None, None)
    return {
        "CLOVER_VAPID_PRIVATE_KEY": private_key,
        "CLOVER_VAPID_PUBLIC_KEY": public_key,
        "CLOVER_VAPID_SUBJECT": subject or "mailto:clover@localhost",
    }


def database_pool(environ) -> dict:
    """Each process's PostgreSQL connection pool (SQLite keeps its own engine settings).

    A request holds one connection. Under gunicorn (`make serve`) the pool defaults to one
    connection per request thread plus one for a worker's background threads (risk
    alerts), set in app/gunicorn_conf.py; these defaults are for a server without a bound
    on its threads (`flask run`, the tests' live server). Every worker of every server has
    its own pool: README "Production" gives the sum that must stay under PostgreSQL's
    max_connections.
    """
    return {
        "CLOVER_DB_POOL_SIZE": int(environ.get("CLOVER_DB_POOL_SIZE") or 10),
        "CLOVER_DB_MAX_OVERFLOW": int(environ.get("CLOVER_DB_MAX_OVERFLOW") or 10),
        # seconds a request waits for a free connection before it fails
        "CLOVER_DB_POOL_TIMEOUT": int(environ.get("CLOVER_DB_POOL_TIMEOUT") or 30),
        # a connection older than this is replaced, before a firewall or PgBouncer drops it
        "CLOVER_DB_POOL_RECYCLE": int(environ.get("CLOVER_DB_POOL_RECYCLE") or 1800),
    }


SMS_PROVIDERS = ("relay", "aliyun", "tencent")


def sms_settings(environ) -> dict:
    """The SMS channel: a relay's gateway, Alibaba Cloud SMS or Tencent Cloud SMS; off by default.

    CLOVER_SMS_URL is what turns it on: set by hand for a relay, the provider's endpoint for
    the two clouds unless given (a test points it at a stand-in). README "SMS providers".
    """
    from app.models import ReminderKind
    from app.reminders.sms_providers import PROVIDER_URLS

    url = environ.get("CLOVER_SMS_URL") or None
    provider = environ.get("CLOVER_SMS_PROVIDER") or ("relay" if url else None)
    if provider not in (None, *SMS_PROVIDERS):
        raise ConfigError(f"CLOVER_SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}")
    if provider == "relay" and not url:
        raise ConfigError("CLOVER_SMS_PROVIDER=relay needs CLOVER_SMS_URL, the relay's gateway")
    if provider in PROVIDER_URLS:
        url = url or PROVIDER_URLS[provider]
        required = ["CLOVER_SMS_KEY_ID", "CLOVER_SMS_KEY_SECRET", "CLOVER_SMS_SENDER"]
        required.append("CLOVER_SMS_TEMPLATES")
        if provider == "tencent":
            required.append("CLOVER_SMS_APP_ID")
        if missing := [name for name in required if not environ.get(name)]:
            raise ConfigError(f"CLOVER_SMS_PROVIDER={provider} needs {', '.join(missing)}")
    try:
        templates = json.loads(environ.get("CLOVER_SMS_TEMPLATES") or "{}")
    except ValueError as error:
        raise ConfigError(f"CLOVER_SMS_TEMPLATES is not JSON: {error}") from error
    # and the text that carries a person's self check-in link (app/checkin)
    kinds = [kind.value for kind in ReminderKind] + ["check_in_link"]
    if not isinstance(templates, dict) or not set(templates) <= set(kinds):
        raise ConfigError(
            "CLOVER_SMS_TEMPLATES must be a JSON object of template codes by reminder kind, "
            f'e.g. {{"digest": "SMS_123"}}; the kinds are {", ".join(kinds)}'
        )
    return {
        "CLOVER_SMS_PROVIDER": provider,
        "CLOVER_SMS_URL": url,
        # the relay's bearer token
        "CLOVER_SMS_TOKEN": environ.get("CLOVER_SMS_TOKEN", ""),
        # the approved sign name (签名), e.g. 三叶草
        "CLOVER_SMS_SENDER": environ.get("CLOVER_SMS_SENDER", ""),
        # Alibaba Cloud AccessKeyId/AccessKeySecret, or Tencent Cloud SecretId/SecretKey
        "CLOVER_SMS_KEY_ID": environ.get("CLOVER_SMS_KEY_ID", ""),
        "CLOVER_SMS_KEY_SECRET": environ.get("CLOVER_SMS_KEY_SECRET", ""),
        # Tencent Cloud's SmsSdkAppId
        "CLOVER_SMS_APP_ID": environ.get("CLOVER_SMS_APP_ID", ""),
        # the cloud's region (cn-hangzhou, ap-guangzhou by default)
        "CLOVER_SMS_REGION": environ.get("CLOVER_SMS_REGION", ""),
        # one approved template per reminder kind: Alibaba's code or Tencent's id
        "CLOVER_SMS_TEMPLATES": {kind: str(code) for kind, code in templates.items()},
    }


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
    session_hours = int(os.environ.get("CLOVER_SESSION_HOURS", "12"))
    return {
        **_vapid_keys(instance_path, production),
        **sms_settings(os.environ),
        # where links in an SMS point, e.g. https://clover.example.org
        "CLOVER_BASE_URL": os.environ.get("CLOVER_BASE_URL", "").rstrip("/"),
        # days a person's self check-in link works after it is given (README "Self check-in")
        "CLOVER_CHECKIN_DAYS": int(os.environ.get("CLOVER_CHECKIN_DAYS", "90")),
        # requests to the public check-in page per client address (Flask-Limiter syntax)
        "CLOVER_CHECKIN_LIMITS": os.environ.get(
            "CLOVER_CHECKIN_LIMITS", "60 per hour;20 per minute"
        ),
        # seconds between in-process reminder runs; 0 (the default) leaves it to cron
        "CLOVER_REMINDER_LOOP": int(os.environ.get("CLOVER_REMINDER_LOOP", "0")),
        # requests a reminder run has in flight at once (README "Reminders")
        "CLOVER_REMINDER_WORKERS": max(1, int(os.environ.get("CLOVER_REMINDER_WORKERS", "8"))),
        # how long a run's claim on a reminder holds: past it, a claim whose sender died is
        # sent by the next run; longer than a run's longest send (README "Reminders")
        "CLOVER_REMINDER_LEASE": timedelta(
            seconds=int(os.environ.get("CLOVER_REMINDER_LEASE_SECONDS", "300"))
        ),
        # WeCom (企业微信) application messages: on when the corp id, secret and agent id are set
        "CLOVER_WECOM_CORP_ID": os.environ.get("CLOVER_WECOM_CORP_ID", ""),
        "CLOVER_WECOM_SECRET": os.environ.get("CLOVER_WECOM_SECRET", ""),
        "CLOVER_WECOM_AGENT_ID": os.environ.get("CLOVER_WECOM_AGENT_ID", ""),
        "CLOVER_WECOM_API": os.environ.get(
            "CLOVER_WECOM_API", "https://qyapi.weixin.qq.com"
        ).rstrip("/"),
        "CLOVER_ENV": env,
        "SECRET_KEY": secret_key,
        # comma-separated Fernet keys, newest first, so old keys still decrypt after rotation
        "CLOVER_DATA_KEY": data_key,
        # HMAC key for the duplicate-detection hash of ID-card numbers; never rotated
        # without rehashing, or duplicates slip through
        "CLOVER_HASH_KEY": hash_key,
        "DATABASE_URL": database_url,
        **database_pool(os.environ),
        "CLOVER_TIMEZONE": os.environ.get("CLOVER_TIMEZONE", "Asia/Shanghai"),
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("CLOVER_TIMEZONE", "Asia/Shanghai"),
        "CLOVER_LOCALES": ("zh_Hans", "en"),
        # a session ends this long after sign-in, however busy; and after sitting idle:
        # soon at a desk (supervisors, administrators), later on an officer's phone
        "CLOVER_SESSION_LIFETIME": timedelta(hours=session_hours),
        "CLOVER_IDLE_DESK": timedelta(
            minutes=int(os.environ.get("CLOVER_IDLE_DESK_MINUTES", "30"))
        ),
        "CLOVER_IDLE_FIELD": timedelta(
            minutes=int(os.environ.get("CLOVER_IDLE_FIELD_MINUTES", "480"))
        ),
        # sign-in attempts per client address and per username (Flask-Limiter syntax),
        # counted in Redis in production so every worker shares them
        "CLOVER_LOGIN_LIMITS": os.environ.get("CLOVER_LOGIN_LIMITS", "30 per hour;10 per minute"),
        # Redis out of reach: count in this worker's memory rather than refuse sign-in
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # proxies in front of Clover that set X-Forwarded-For/-Proto (a TLS proxy: 1), so
        # the per-address sign-in limit counts clients, not the proxy
        "CLOVER_PROXY_HOPS": int(os.environ.get("CLOVER_PROXY_HOPS", "0")),
        "RATELIMIT_STORAGE_URI": os.environ.get(
            "REDIS_URL", "redis://127.0.0.1:6379/0" if production else "memory://"
        ),
        # names this release in the service worker's cache (e.g. a git commit); optional
        "CLOVER_BUILD": os.environ.get("CLOVER_BUILD", ""),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=session_hours),
        # the cookie goes out only when the session changes (see security.SessionCookies);
        # the server-side session row keeps the idle and lifetime limits
        "SESSION_REFRESH_EACH_REQUEST": False,
        # __Host-: only over HTTPS, for this host and path "/" only
        "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        # a form may sit open for a whole visit; the session bounds its life instead
        "WTF_CSRF_TIME_LIMIT": None,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
    }
