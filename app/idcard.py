"""Resident ID-card numbers (GB 11643-1999): the check digit and the birth date inside."""

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PATTERN = re.compile(r"^\d{17}[\dX]$")


def normalise(value: str) -> str:
    """Upper case, without the spaces people type between groups."""
    return re.sub(r"\s+", "", value or "").upper()


def check_char(first17: str) -> str:
    """The 18th character that the first seventeen digits call for."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def birth_date(number: str) -> date | None:
    """The date of birth written in digits 7-14, or None when it is no date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def is_valid(number: str) -> bool:
    """18 characters, a real birth date and the right check character."""
    return (
        bool(PATTERN.match(number))
        and birth_date(number) is not None
        and check_char(number[:17]) == number[17]
    )
