"""Small server-rendered SVG charts: no script, no inline style, so the CSP stays strict.

Each builder returns markup-safe SVG with `role="img"` and a `<title>`; colours and type
come from classes in static/css/app.css (`.chart`, `.series-<key>`), sizes from SVG
attributes. The page shows each chart beside a table of its data (templates/supervision/
_chart.html), which is what a screen reader reads and what prints.
"""

from collections.abc import Sequence

from markupsafe import Markup

# a phone's width in SVG units, so 12 px text stays about 12 px on a 360 px screen
WIDTH = 360
LABEL_WIDTH = 118  # room for an officer's name or a stage left of horizontal bars
VALUE_WIDTH = 40  # room for a percent or a count right of them
ROW_HEIGHT = 28
BAR_HEIGHT = 18


def _svg(chart_id: str, title: str, height: int, body: list[str], kind: str) -> Markup:
    return Markup(
        '<svg class="chart chart-{kind}" id="{id}" viewBox="0 0 {width} {height}"'
        ' width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet"'
        ' role="img" aria-labelledby="{id}-title" focusable="false">'
        '<title id="{id}-title">{title}</title>{body}</svg>'
    ).format(
        kind=kind,
        id=chart_id,
        width=WIDTH,
        height=height,
        title=title,
        body=Markup("").join(body),
    )


def _tag(template: str, **values) -> Markup:
    """An SVG element; its values escaped (numbers rounded to a tenth)."""
    values = {k: round(v, 1) if isinstance(v, float) else v for k, v in values.items()}
    return Markup(template).format(**values)  # noqa: S704 - constant templates, escaped values


def _nice_top(value: int) -> int:
    """A round number at or above `value` for the top of an axis."""
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def stacked_bars(
    *,
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str]],
    values: dict[tuple[int, str], int],
) -> Markup:
    """Vertical bars, one per category (a month), stacked by series (a kind of contact).

    `series` is (key, label); `values[(category index, key)]` the count. Each segment
    carries a `<title>` with its label and count, for a pointer's tooltip.
    """
    height, top_pad, bottom, left = 200, 10, 24, 30
    plot = height - top_pad - bottom
    totals = [sum(values.get((i, key), 0) for key, _ in series) for i in range(len(categories))]
    top = _nice_top(max(totals, default=0))
    step = (WIDTH - left) / max(len(categories), 1)
    bar = step * 0.7
    body = []
    for tick in (0, top // 2, top):
        y = top_pad + plot - plot * tick / top
        body.append(
            _tag(
                '<line class="chart-grid" x1="{left}" x2="{right}" y1="{y}" y2="{y}"/>'
                '<text class="chart-axis" x="{x}" y="{ty}" text-anchor="end">{tick}</text>',
                left=left,
                right=WIDTH,
                y=float(y),
                x=left - 6,
                ty=float(y + 4),
                tick=tick,
            )
        )
    for i, category in enumerate(categories):
        x = left + i * step + (step - bar) / 2
        y = float(top_pad + plot)
        for key, label in series:
            count = values.get((i, key), 0)
            if not count:
                continue
            h = plot * count / top
            y -= h
            body.append(
                _tag(
                    '<rect class="series-{key}" x="{x}" y="{y}" width="{w}" height="{h}">'
                    "<title>{category} · {label}: {count}</title></rect>",
                    key=key,
                    x=float(x),
                    y=y,
                    w=float(bar),
                    h=float(h),
                    category=category,
                    label=label,
                    count=count,
                )
            )
        body.append(
            _tag(
                '<text class="chart-axis" x="{x}" y="{y}" text-anchor="middle">{category}</text>',
                x=float(x + bar / 2),
                y=height - 7,
                category=category,
            )
        )
    return _svg(chart_id, title, height, body, "stacked")


def _row_label(y: int, label: str) -> Markup:
    return _tag(
        '<text class="chart-label" x="{x}" y="{y}" text-anchor="end">{label}</text>',
        x=LABEL_WIDTH - 8,
        y=y + BAR_HEIGHT - 5,
        label=label,
    )


def _row_value(y: int, span: int, value: str) -> Markup:
    return _tag(
        '<text class="chart-value" x="{x}" y="{y}">{value}</text>',
        x=LABEL_WIDTH + span + 4,
        y=y + BAR_HEIGHT - 5,
        value=value,
    )


def horizontal_bars(
    *, chart_id: str, title: str, rows: Sequence[tuple[str, float | None]], empty: str = "—"
) -> Markup:
    """One bar per row for a share from 0 to 1 (an officer's on-time rate), with its percent."""
    height = max(len(rows), 1) * ROW_HEIGHT + 8
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = []
    for i, (label, share) in enumerate(rows):
        y = 4 + i * ROW_HEIGHT
        body.append(_row_label(y, label))
        body.append(
            _tag(
                '<rect class="chart-track" x="{x}" y="{y}" width="{w}" height="{h}"/>',
                x=LABEL_WIDTH,
                y=y,
                w=span,
                h=BAR_HEIGHT,
            )
        )
        if share is not None:
            level = "good" if share >= 0.8 else "fair" if share >= 0.6 else "poor"
            body.append(
                _tag(
                    '<rect class="bar-{level}" x="{x}" y="{y}" width="{w}" height="{h}"/>',
                    level=level,
                    x=LABEL_WIDTH,
                    y=y,
                    w=float(span * share),
                    h=BAR_HEIGHT,
                )
            )
        body.append(_row_value(y, span, f"{share:.0%}" if share is not None else empty))
    return _svg(chart_id, title, height, body, "bars")


def funnel(*, chart_id: str, title: str, stages: Sequence[tuple[str, int]]) -> Markup:
    """Stages as centred bars as wide as their count, the widest the first."""
    height = max(len(stages), 1) * ROW_HEIGHT + 8
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    widest = max((count for _, count in stages), default=0) or 1
    body = []
    for i, (label, count) in enumerate(stages):
        y = 4 + i * ROW_HEIGHT
        width = span * count / widest
        body.append(_row_label(y, label))
        body.append(
            _tag(
                '<rect class="funnel-{i}" x="{x}" y="{y}" width="{w}" height="{h}"/>',
                i=i,
                x=float(LABEL_WIDTH + (span - width) / 2),
                y=y,
                w=float(width),
                h=BAR_HEIGHT,
            )
        )
        body.append(_row_value(y, span, str(count)))
    return _svg(chart_id, title, height, body, "funnel")


def line_over_bands(
    *,
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, int]],
    bands: Sequence[tuple[int, int, str]],
    lowest: int,
    highest: int,
) -> Markup:
    """Values over time as a line, over shaded bands of what they mean (a scale's severity).

    `points` is (date label, value), oldest first, spaced evenly; `bands` is (low, high,
    key), both ends included, each shaded by its class `band-<key>`, its low end on the axis.
    Each point carries a `<title>` with its date and value.
    """
    height, top_pad, bottom, left, right = 180, 10, 24, 30, 12
    plot = height - top_pad - bottom
    span = max(highest - lowest, 1)

    def y(value: float) -> float:
        return top_pad + plot - plot * (value - lowest) / span

    body = []
    for low, high, key in bands:
        top, base = y(min(high + 0.5, highest)), y(max(low - 0.5, lowest))
        body.append(
            _tag(
                '<rect class="band-{key}" x="{x}" y="{y}" width="{w}" height="{h}"/>'
                '<text class="chart-axis" x="{tx}" y="{ty}" text-anchor="end">{low}</text>',
                key=key,
                x=left,
                y=float(top),
                w=WIDTH - left,
                h=float(base - top),
                tx=left - 6,
                ty=float(y(low) + 4),
                low=low,
            )
        )
    step = (WIDTH - left - right * 2) / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + right + (i * step if len(points) > 1 else (WIDTH - left - right * 2) / 2)

    if len(points) > 1:
        coordinates = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
        body.append(_tag('<polyline class="chart-trend" fill="none" points="{p}"/>', p=coordinates))
    for i, (label, value) in enumerate(points):
        body.append(
            _tag(
                '<circle class="chart-point" cx="{x}" cy="{y}" r="4">'
                "<title>{label}: {value}</title></circle>",
                x=float(x(i)),
                y=float(y(value)),
                label=label,
                value=value,
            )
        )
    ends = [(0, "start"), (len(points) - 1, "end")] if len(points) > 1 else [(0, "middle")]
    for i, anchor in ends[: len(points)]:
        body.append(
            _tag(
                '<text class="chart-axis" x="{x}" y="{y}" text-anchor="{anchor}">{label}</text>',
                x=float(x(i)),
                y=height - 7,
                anchor=anchor,
                label=points[i][0],
            )
        )
    return _svg(chart_id, title, height, body, "line")
