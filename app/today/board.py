"""What Today shows, with no Flask in it: who is due for the signed-in officer or peer
helper, in a fixed number of queries. (A supervisor's home is her unit's dashboard:
app/supervision/dashboard.py.)
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from app.due import URGENT_REASONS, DueCounts, DueItem, count_due, due_items
from app.models import User
from app.policy import Action, can
from app.release.checklist import Preparing, preparing
from app.schedule import DueState, local_date


@dataclass(frozen=True)
class TodayBoard:
    today: date
    items: list[DueItem]
    counts: DueCounts
    # her people within six months of release with preparation items left (出所准备)
    preparation: list[Preparing] = field(default_factory=list)

    @property
    def risks(self) -> list[DueItem]:
        """People whose last contact flagged self-harm or relapse signs, or who asked to talk
        in their own check-in: shown first."""
        return [item for item in self.items if item.due.reason in URGENT_REASONS]

    def in_state(self, state: str) -> list[DueItem]:
        """The others due in this state."""
        return [
            item
            for item in self.items
            if item.due.state == DueState(state) and item.due.reason not in URGENT_REASONS
        ]


def today_board(session: Session, user: User, *, now: datetime) -> TodayBoard:
    """Overdue first, then due today, then the next 7 days, in the user's own time zone."""
    today = local_date(now, user.timezone)
    items = due_items(session, user, today=today)
    # one more query, for whoever ticks preparation items (not a peer helper)
    preparation = preparing(session, user, today=today) if can(user, Action.release_prepare) else []
    return TodayBoard(today=today, items=items, counts=count_due(items), preparation=preparation)
