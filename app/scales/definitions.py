"""The standard scales, one table each: items, answers and severity bands. No Flask in here.

The wording is the published one: PHQ-9 and GAD-7 in English as Pfizer published them (the
source strings), in Simplified Chinese as their published Chinese versions (the zh_Hans
catalog). Scoring is the sum of the answers; the band is the one whose range holds it.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.models import RiskFlag


@dataclass(frozen=True)
class Band:
    """A range of totals (both ends included) and what it means; `level` 0 is the calmest."""

    code: str
    low: int
    high: int
    label: str
    level: int


@dataclass(frozen=True)
class Scale:
    code: str
    name: str
    # the question asked before the items (empty for a single-item scale)
    prompt: str
    items: tuple[str, ...]
    # (value, label) of each answer, the same for every item
    answers: tuple[tuple[int, str], ...]
    bands: tuple[Band, ...]
    # the item (0-based) whose answer above 0 raises a flag, and that flag
    flag_item: int | None = None
    flag: RiskFlag | None = None

    @property
    def values(self) -> frozenset[int]:
        return frozenset(value for value, _label in self.answers)

    @property
    def lowest(self) -> int:
        return len(self.items) * min(self.values)

    @property
    def highest(self) -> int:
        return len(self.items) * max(self.values)

    def band_of(self, total: int) -> Band:
        """The band whose range holds this total."""
        for band in self.bands:
            if band.low <= total <= band.high:
                return band
        raise ValueError(f"{self.code}: no band holds {total}")

    def band(self, code: str) -> Band | None:
        return next((band for band in self.bands if band.code == code), None)

    def flags(self, answers: list[int]) -> list[str]:
        """The risk flags these answers raise (PHQ-9 item 9 above 0: self-harm)."""
        if self.flag_item is None or answers[self.flag_item] <= 0:
            return []
        return [self.flag.value]


TWO_WEEKS = _l(
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
)
FREQUENCY = (
    (0, _l("Not at all")),
    (1, _l("Several days")),
    (2, _l("More than half the days")),
    (3, _l("Nearly every day")),
)

PHQ9 = Scale(
    code="phq9",
    name=_l("PHQ-9 (depression)"),
    prompt=TWO_WEEKS,
    items=(
        _l("Little interest or pleasure in doing things"),
        _l("Feeling down, depressed, or hopeless"),
        _l("Trouble falling or staying asleep, or sleeping too much"),
        _l("Feeling tired or having little energy"),
        _l("Poor appetite or overeating"),
        _l(
            "Feeling bad about yourself — or that you are a failure or have let yourself "
            "or your family down"
        ),
        _l("Trouble concentrating on things, such as reading the newspaper or watching television"),
        _l(
            "Moving or speaking so slowly that other people could have noticed? Or the "
            "opposite — being so fidgety or restless that you have been moving around a lot "
            "more than usual"
        ),
        _l("Thoughts that you would be better off dead or of hurting yourself in some way"),
    ),
    answers=FREQUENCY,
    bands=(
        Band("minimal", 0, 4, _l("None or minimal depression"), 0),
        Band("mild", 5, 9, _l("Mild depression"), 1),
        Band("moderate", 10, 14, _l("Moderate depression"), 2),
        Band("moderately_severe", 15, 19, _l("Moderately severe depression"), 3),
        Band("severe", 20, 27, _l("Severe depression"), 4),
    ),
    flag_item=8,
    flag=RiskFlag.self_harm,
)

GAD7 = Scale(
    code="gad7",
    name=_l("GAD-7 (anxiety)"),
    prompt=TWO_WEEKS,
    items=(
        _l("Feeling nervous, anxious or on edge"),
        _l("Not being able to stop or control worrying"),
        _l("Worrying too much about different things"),
        _l("Trouble relaxing"),
        _l("Being so restless that it is hard to sit still"),
        _l("Becoming easily annoyed or irritable"),
        _l("Feeling afraid as if something awful might happen"),
    ),
    answers=FREQUENCY,
    bands=(
        Band("minimal", 0, 4, _l("Minimal anxiety"), 0),
        Band("mild", 5, 9, _l("Mild anxiety"), 1),
        Band("moderate", 10, 14, _l("Moderate anxiety"), 2),
        Band("severe", 15, 21, _l("Severe anxiety"), 4),
    ),
)

CRAVING = Scale(
    code="craving",
    name=_l("Craving (0–10)"),
    prompt="",
    items=(_l("How strong is your craving for drugs right now? 0 none, 10 the strongest"),),
    answers=tuple((value, str(value)) for value in range(11)),
    bands=(
        Band("none", 0, 0, _l("No craving"), 0),
        Band("low", 1, 3, _l("Low craving"), 1),
        Band("moderate", 4, 6, _l("Moderate craving"), 2),
        Band("high", 7, 10, _l("Strong craving"), 4),
    ),
)

MOOD = Scale(
    code="mood",
    name=_l("Mood check (1–5)"),
    prompt="",
    items=(_l("How has your mood been these last few days?"),),
    answers=(
        (1, _l("Very bad")),
        (2, _l("Bad")),
        (3, _l("So-so")),
        (4, _l("Good")),
        (5, _l("Very good")),
    ),
    # a low mood is the worry here: the levels run the other way
    bands=(
        Band("low", 1, 2, _l("Low mood"), 3),
        Band("fair", 3, 3, _l("Fair mood"), 1),
        Band("good", 4, 5, _l("Good mood"), 0),
    ),
)

SCALES: dict[str, Scale] = {scale.code: scale for scale in (PHQ9, GAD7, CRAVING, MOOD)}


def _check(scale: Scale) -> None:
    """Every possible total falls in exactly one band, and the answers' values run without
    a gap (an answer is checked as a whole number in their range): else it fails at import."""
    if scale.values != frozenset(range(min(scale.values), max(scale.values) + 1)):
        raise ValueError(f"{scale.code}: the answers' values have a gap")
    for total in range(scale.lowest, scale.highest + 1):
        holding = [band.code for band in scale.bands if band.low <= total <= band.high]
        if len(holding) != 1:
            raise ValueError(f"{scale.code}: total {total} is in bands {holding}")


for _scale in SCALES.values():
    _check(_scale)
