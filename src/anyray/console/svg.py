"""Server-rendered charts: spend over time as stacked bars, one series (and one legend entry) per model.

No script and nothing from a CDN: the page is complete as served. Each model is one `<g class="series">`
with a `data-model` attribute and a `<title>` per bar, so a browser's tooltip and a test can both read it.

The bars are an SVG stretched to the chart's box (`preserveAspectRatio="none"`); the axis labels are
HTML laid over it, so they keep their CSS size (12 px) at 390 px wide as at 1440, where labels inside a
scaled SVG shrank to 4 px. A model's colour is a hash of its family name into the palette: the same
model has the same colour on every page and in every range, whichever other models are shown.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from html import escape

from anyray.pricing import format_usd

# Tableau 20's dark and light pairs, reordered so neighbours differ in hue: 20 colours before a repeat
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#79706e", "#a0cbe8", "#ffbe7d", "#8cd17d", "#b6992d", "#499894", "#86bcb6",
           "#d37295", "#fabfd2", "#d4a6c8", "#bab0ac")
WIDTH, HEIGHT = 1000, 240  # the bars' coordinate space; drawn stretched to the box's width


def color(model: str) -> str:
    """The model's colour: stable across pages, ranges and filters (a hash, not a position in a list)."""
    return PALETTE[zlib.crc32(model.encode()) % len(PALETTE)]


def _nice_max(value: int) -> int:
    """A round axis maximum (1, 2, 5 x 10^n micro-dollars) at or above the tallest stack."""
    if value <= 0:
        return 1_000
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _tick_label(ts_ms: int, bucket_ms: int) -> str:
    when = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return when.strftime("%H:%M") if bucket_ms < 86_400_000 and when.hour else when.strftime("%m-%d")


def stacked_bars(buckets: list[int], series: dict[str, list[int]], bucket_ms: int, title: str) -> str:
    """Stacked bars of micro-dollars per bucket; `series` maps model -> one value per bucket."""
    n = max(len(buckets), 1)
    stacks = [sum(vals[i] for vals in series.values()) for i in range(len(buckets))]
    top = _nice_max(max(stacks, default=0))
    slot = WIDTH / n
    bar_w = max(slot * 0.8, 1.0)

    def y(v: float) -> float:
        return HEIGHT - HEIGHT * v / top

    out = ['<div class="chart-box"><div class="chart-plot">'
           f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'preserveAspectRatio="none" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for frac in (0, 0.5, 1):
        out.append(f'<line class="grid" x1="0" x2="{WIDTH}" y1="{y(top * frac):.1f}" y2="{y(top * frac):.1f}" '
                   'stroke="#d1d5db" vector-effect="non-scaling-stroke"/>')
    base = [0] * len(buckets)
    for model, values in series.items():
        out.append(f'<g class="series" data-model="{escape(model)}" data-total="{sum(values)}" '
                   f'fill="{color(model)}">')
        for i, v in enumerate(values):
            if v <= 0:
                continue
            x = slot * i + (slot - bar_w) / 2
            y_top, y_bottom = y(base[i] + v), y(base[i])
            when = datetime.fromtimestamp(buckets[i] / 1000, UTC).strftime("%Y-%m-%d %H:%M")
            out.append(f'<rect x="{x:.2f}" y="{y_top:.2f}" width="{bar_w:.2f}" '
                       f'height="{max(y_bottom - y_top, 0.5):.2f}" data-value="{v}">'
                       f'<title>{escape(model)} {when} UTC: {escape(format_usd(v))}</title></rect>')
            base[i] += v
        out.append("</g>")
    out.append("</svg>")
    if not series:
        out.append('<p class="chart-empty muted">no spend in this range</p>')
    # HTML labels over the plot: y at the grid lines (from the top), x under every few buckets (every
    # other one of those, "minor", is hidden on a narrow screen)
    for frac in (1, 0.5, 0):
        out.append(f'<span class="axis ylabel" style="top:{(1 - frac) * 100:.1f}%">'
                   f'{escape(format_usd(int(top * frac)))}</span>')
    every = max(1, n // 6)
    for k, i in enumerate(range(0, len(buckets), every)):
        out.append(f'<span class="axis xlabel{" minor" if k % 2 else ""}" style="left:{(i + 0.5) / n * 100:.2f}%">'
                   f'{escape(_tick_label(buckets[i], bucket_ms))}</span>')
    out.append("</div></div>")
    return "".join(out)


def legend(series: dict[str, list[int]], unpriced: set[str] | None = None) -> str:
    """An HTML legend (wraps, selectable text) matching the chart's colours. A model with no price shows
    "unpriced", never $0 (its calls cost something the price table cannot say)."""
    unpriced = unpriced or set()
    items = []
    for m, v in series.items():
        amount = "unpriced" if m in unpriced and not sum(v) else format_usd(sum(v))
        items.append(f'<li class="legend-item" data-model="{escape(m)}"><span class="swatch" '
                     f'style="background:{color(m)}"></span>{escape(m)} '
                     f'<span class="muted">{escape(amount)}</span></li>')
    return f'<ul class="legend">{"".join(items)}</ul>'
