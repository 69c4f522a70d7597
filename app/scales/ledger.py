"""Her scales on her ledger: per scale, the totals over time as a chart and a table."""

from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup
from sqlmodel import Session

from app.models import Person, ScaleResult
from app.scales.definitions import SCALES, Band, Scale
from app.scales.service import results_of
from app.supervision.charts import line_over_bands


@dataclass(frozen=True)
class ScalePanel:
    """One scale's results for her, oldest first, and its chart."""

    scale: Scale
    results: list[ScaleResult]
    chart: Markup

    @property
    def latest(self) -> ScaleResult:
        return self.results[-1]

    @property
    def latest_band(self) -> Band:
        return self.scale.band(self.latest.band)

    def band_label(self, result: ScaleResult) -> str:
        band = self.scale.band(result.band)
        return str(band.label) if band else result.band


def scale_panels(session: Session, person: Person) -> list[ScalePanel]:
    """A panel for each scale she has results of, in the order the scales are listed."""
    by_scale: dict[str, list[ScaleResult]] = {}
    for result in results_of(session, person):
        by_scale.setdefault(result.scale, []).append(result)
    panels = []
    for code, scale in SCALES.items():
        results = by_scale.get(code)
        if not results:
            continue
        chart = line_over_bands(
            chart_id=f"chart-{code}",
            title=_("%(scale)s: totals over time", scale=scale.name),
            points=[(format_date(r.taken_at, "short"), r.total) for r in results],
            bands=[(b.low, b.high, f"level-{b.level}") for b in scale.bands],
            lowest=scale.lowest,
            highest=scale.highest,
        )
        panels.append(ScalePanel(scale, results, chart))
    return panels
