"""When a reminder may go out: chosen times and quiet hours, in the user's own time zone.

Plain functions, no Flask, no database. Times are "HH:MM" strings as stored on `User`.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_hhmm(text: str) -> time:
    """'08:00' -> time(8, 0); raises ValueError for anything else."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"not a time of day: {text!r}")
    return time(int(hours), int(minutes))


def local_now(now: datetime, timezone: str) -> datetime:
    return now.astimezone(ZoneInfo(timezone))


def in_quiet_hours(moment: time, start: str | None, end: str | None) -> bool:
    """True between start and end; a span like 22:00-07:00 runs over midnight."""
    if not start or not end:
        return False
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    if begin == finish:
        return False
    if begin < finish:
        return begin <= moment < finish
    return moment >= begin or moment < finish


def quiet_until(now: datetime, timezone: str, start: str | None, end: str | None) -> datetime:
    """The moment quiet hours end, or `now` itself when it is not quiet now."""
    local = local_now(now, timezone)
    if not in_quiet_hours(local.time(), start, end):
        return now
    finish = parse_hhmm(end)
    day = local.date() if local.time() < finish else local.date() + timedelta(days=1)
    return datetime.combine(day, finish, tzinfo=local.tzinfo)


def time_has_come(now: datetime, timezone: str, at: str) -> tuple[bool, date]:
    """Whether the user's local clock has passed `at` today, and her local date."""
    local = local_now(now, timezone)
    return local.time() >= parse_hhmm(at), local.date()
