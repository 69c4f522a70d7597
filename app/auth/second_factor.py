"""The second factor (TOTP): who must give one at sign-in, and who must enrol first."""

from app.models import User


def step_for(user: User) -> str | None:
    """The endpoint of her second sign-in step, or None when the password is enough."""
    return None
