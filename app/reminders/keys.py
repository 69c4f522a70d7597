"""VAPID keys: made once, kept in the environment or under instance/, checked at start-up.

Both keys are base64url: the private key as its raw 32 bytes (what pywebpush accepts),
the public key as the uncompressed P-256 point the page passes to `PushManager.subscribe`.
Run `python -m app.reminders.keys` to print a new pair without starting the app.
"""

import base64
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PRIVATE_FILE = "vapid_private_key"
PUBLIC_FILE = "vapid_public_key"


class VapidKeyError(ValueError):
    """The VAPID keys given cannot be used."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_of(private_key: ec.EllipticCurvePrivateKey) -> str:
    point = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def generate_keys() -> tuple[str, str]:
    """A new (private, public) pair, both base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(raw), public_key_of(key)


def check_pair(private: str, public: str) -> None:
    """Refuse a malformed key or a public key that does not belong to the private one."""
    try:
        raw = b64url_decode(private.strip())
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError as error:
        raise VapidKeyError(
            "CLOVER_VAPID_PRIVATE_KEY is not a base64url P-256 private key"
        ) from error
    if public_key_of(key) != public.strip():
        raise VapidKeyError("CLOVER_VAPID_PUBLIC_KEY does not match CLOVER_VAPID_PRIVATE_KEY")


def read_keys(environ: Mapping[str, str], instance_path: Path) -> tuple[str, str] | None:
    """The checked key pair from the environment, else from instance/, else None."""
    private = environ.get("CLOVER_VAPID_PRIVATE_KEY", "")
    public = environ.get("CLOVER_VAPID_PUBLIC_KEY", "")
    if not private and not public:
        private_path, public_path = instance_path / PRIVATE_FILE, instance_path / PUBLIC_FILE
        if not private_path.exists() or not public_path.exists():
            return None
        private, public = private_path.read_text().strip(), public_path.read_text().strip()
    elif not private or not public:
        raise VapidKeyError("set both CLOVER_VAPID_PRIVATE_KEY and CLOVER_VAPID_PUBLIC_KEY")
    check_pair(private, public)
    return private.strip(), public.strip()


def write_keys(instance_path: Path) -> tuple[str, str]:
    """Make a new pair and keep it under instance/, readable by the owner only."""
    private, public = generate_keys()
    instance_path.mkdir(parents=True, exist_ok=True)
    for name, value in ((PRIVATE_FILE, private), (PUBLIC_FILE, public)):
        path = instance_path / name
        path.write_text(value + "\n")
        path.chmod(0o600)
    return private, public


if __name__ == "__main__":
    new_private, new_public = generate_keys()
    print(f"CLOVER_VAPID_PRIVATE_KEY={new_private}")
    print(f"CLOVER_VAPID_PUBLIC_KEY={new_public}")
    print("CLOVER_VAPID_SUBJECT=mailto:")
