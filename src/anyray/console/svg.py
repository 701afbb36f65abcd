"""Server-rendered SVG charts: spend over time as stacked bars, one series (and one legend entry) per model.

No script and nothing from a CDN: the page is complete as served. Each model is one `<g class="series">`
with a `data-model` attribute and a `<title>` per bar, so a browser's tooltip and a test can both read it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from anyray.pricing import format_usd

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")
WIDTH, HEIGHT = 900, 280
LEFT, RIGHT, TOP, BOTTOM = 90, 16, 12, 36


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


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
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    stacks = [sum(vals[i] for vals in series.values()) for i in range(len(buckets))]
    top = _nice_max(max(stacks, default=0))
    slot = plot_w / n
    bar_w = max(slot * 0.8, 1.0)

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * v / top

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="100%" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    # axes and grid: 0, 1/2, max
    for frac in (0, 0.5, 1):
        v = top * frac
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text class="ylabel" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">'
                   f'{escape(format_usd(int(v)))}</text>')
    every = max(1, n // 8)
    for i, b in enumerate(buckets):
        if i % every == 0:
            x = LEFT + slot * i + slot / 2
            out.append(f'<text class="xlabel" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                       f'font-size="11">{escape(_tick_label(b, bucket_ms))}</text>')
    base = [0] * len(buckets)
    for k, (model, values) in enumerate(series.items()):
        out.append(f'<g class="series" data-model="{escape(model)}" data-total="{sum(values)}" fill="{color(k)}">')
        for i, v in enumerate(values):
            if v <= 0:
                continue
            x = LEFT + slot * i + (slot - bar_w) / 2
            y_top, y_bottom = y(base[i] + v), y(base[i])
            when = datetime.fromtimestamp(buckets[i] / 1000, UTC).strftime("%Y-%m-%d %H:%M")
            out.append(f'<rect x="{x:.2f}" y="{y_top:.2f}" width="{bar_w:.2f}" '
                       f'height="{max(y_bottom - y_top, 0.5):.2f}" data-value="{v}">'
                       f'<title>{escape(model)} {when} UTC: {escape(format_usd(v))}</title></rect>')
            base[i] += v
        out.append("</g>")
    if not series:
        out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" fill="#888">'
                   "no spend in this range</text>")
    out.append("</svg>")
    return "".join(out)


def legend(series: dict[str, list[int]]) -> str:
    """An HTML legend (wraps, selectable text) matching the chart's colours."""
    items = [
        f'<li class="legend-item" data-model="{escape(m)}"><span class="swatch" style="background:{color(k)}">'
        f'</span>{escape(m)} <span class="muted">{escape(format_usd(sum(v)))}</span></li>'
        for k, (m, v) in enumerate(series.items())
    ]
    return f'<ul class="legend">{"".join(items)}</ul>'
