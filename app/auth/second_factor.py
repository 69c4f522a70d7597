"""The second factor (TOTP): who must give one at sign-in, and who must enrol first."""

from app.auth.totp import is_enrolled, required_for
from app.models import User


def step_for(user: User) -> str | None:
    """The endpoint of her second sign-in step, or None when the password is enough."""
    if is_enrolled(user):
        return "auth.second_factor"
    if required_for(user):
        return "auth.enrol"
    return None
