"""Personal identifiers at rest: Fernet encryption with key rotation, and a keyed hash."""

import hashlib
import hmac
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class IdCipher:
    """Encrypts, decrypts and hashes ID-card numbers with the keys from config.

    `data_keys` is a comma-separated list of Fernet keys, newest first: the first
    encrypts, all decrypt, so old records stay readable after a key is rotated in.
    """

    def __init__(self, *, data_keys: str, hash_key: str):
        keys = [key.strip() for key in data_keys.split(",") if key.strip()]
        if not keys:
            raise ValueError("at least one data key is needed")
        if not hash_key:
            raise ValueError("a hash key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._hash_key = hash_key.encode()

    @classmethod
    def from_config(cls, config: Mapping) -> "IdCipher":
        return cls(data_keys=config["CLOVER_DATA_KEY"], hash_key=config["CLOVER_HASH_KEY"])

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        """The plain value, or None when no configured key opens it."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            return None

    def rotate(self, token: str) -> str:
        """The same value encrypted under the newest key."""
        return self._fernet.rotate(token.encode()).decode()

    def digest(self, value: str) -> str:
        """A keyed hash (HMAC-SHA256, hex) that finds duplicates without decrypting."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str | None, tail: str | None = None) -> str:
    """`500***********1234`: the first three and the last four characters only."""
    if value and len(value) == 18:
        return value[:3] + "*" * 11 + value[-4:]
    return "*" * 14 + (tail or "****")


# the cipher of the app created last: for scripts and tests that run outside a request
_latest: IdCipher | None = None


def init_app(app) -> None:
    global _latest
    _latest = app.extensions["clover_cipher"] = IdCipher.from_config(app.config)


def get_cipher() -> IdCipher:
    """The cipher of the running app, or of the app created last outside an app context."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions["clover_cipher"]
    if _latest is None:
        raise RuntimeError("no app has been created: call create_app first")
    return _latest
