"""Report periods: a month, a quarter or a year of whole calendar days in the city's zone."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


@dataclass(frozen=True)
class Period:
    """Whole calendar days from `start` to `end` (both included): a month, quarter or year."""

    kind: PeriodKind
    year: int
    number: int = 1  # the month (1-12) or the quarter (1-4); 1 for a year

    def __post_init__(self):
        top = {PeriodKind.month: 12, PeriodKind.quarter: 4, PeriodKind.year: 1}[self.kind]
        if not 1 <= self.number <= top or not 2000 <= self.year <= 2100:
            raise ValueError(f"no such {self.kind}: {self.year}/{self.number}")

    @classmethod
    def previous_month(cls, today: date) -> "Period":
        """The default report: the month before the one `today` is in."""
        last = today.replace(day=1) - timedelta(days=1)
        return cls(PeriodKind.month, last.year, last.month)

    @property
    def start(self) -> date:
        match self.kind:
            case PeriodKind.month:
                return date(self.year, self.number, 1)
            case PeriodKind.quarter:
                return date(self.year, 3 * self.number - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        months = {PeriodKind.month: 1, PeriodKind.quarter: 3, PeriodKind.year: 12}[self.kind]
        first_month = self.start.month - 1 + months
        after = date(self.year + first_month // 12, first_month % 12 + 1, 1)
        return after - timedelta(days=1)

    @property
    def key(self) -> str:
        """2026-05, 2026-Q2 or 2026: for file names and the audit trail."""
        match self.kind:
            case PeriodKind.month:
                return f"{self.year}-{self.number:02d}"
            case PeriodKind.quarter:
                return f"{self.year}-Q{self.number}"
        return str(self.year)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as UTC moments [from, until): local midnight to local midnight."""
        return day_start(self.start, zone), day_start(self.end + timedelta(days=1), zone)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC moment a local calendar day begins."""
    return datetime.combine(day, time(), zone).astimezone(UTC)
