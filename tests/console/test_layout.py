"""The console's layout in real Chromium at a phone's width (390 px) and a desktop's (1440 px).

No page scrolls sideways (a wide table scrolls inside its own box, spend its second column), the
chart's axis labels render at 10 px or more, the header's text keeps a 4.5:1 contrast, a model keeps
its colour whichever other models are shown, dated ids are one model, and a model without a price
reads "unpriced", never $0.
"""

from __future__ import annotations

import time

import pytest

from anyray.console.svg import PALETTE
from anyray.store import SpendRecord, open_store

PAGES = ["/console/?range=24h", "/console/tables/team?range=24h", "/console/tables/model?range=7d",
         "/console/tables/app?range=24h&team=search", "/console/optimizer?range=24h", "/console/health"]


def _luminance(rgb: str) -> float:
    """WCAG relative luminance of a computed `rgb(r, g, b)` colour."""
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _add_unpriced_call(url: str) -> None:
    store = open_store(url)
    try:
        store.insert([SpendRecord(ts_ms=int(time.time() * 1000) - 60_000, request_id="unpriced-1", dialect="openai",
                                  endpoint="/v1/chat/completions", model_asked="mystery-model-x", status=200,
                                  team="support", app="bot", provider="openai", input_tokens=500, output_tokens=20,
                                  cost_micros=None, latency_ms=120.0)])
    finally:
        store.close()


@pytest.mark.parametrize("width", [390, 1440])
def test_pages_fit_the_screen_with_legible_labels_and_contrast(filled, browser, width):
    _add_unpriced_call(filled.store_url)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        for path in PAGES:
            page.goto(filled.gw.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} at {width} px is {overflow} px wider than the screen"
            header = page.locator("header")
            background = header.evaluate("e => getComputedStyle(e).backgroundColor")
            texts = header.locator("a, span, button")
            for i in range(texts.count()):
                if texts.nth(i).is_visible():
                    colour = texts.nth(i).evaluate("e => getComputedStyle(e).color")
                    if texts.nth(i).evaluate("e => e.tagName") != "BUTTON":
                        assert _contrast(colour, background) >= 4.5, (path, texts.nth(i).inner_text())
        page.goto(filled.gw.url + "/console/?range=24h")
        labels = page.locator(".chart-box .axis:visible")
        assert labels.count() >= 5
        for i in range(labels.count()):
            size = float(labels.nth(i).evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
            box = labels.nth(i).bounding_box()
            assert size >= 10 and box["height"] >= 10, (labels.nth(i).inner_text(), size)
            assert box["x"] >= 0 and box["x"] + box["width"] <= width  # on screen, not cut at an edge
        # the table scrolls inside its section; spend is the column right after the name
        page.goto(filled.gw.url + "/console/tables/team?range=24h")
        keys = page.locator("#group-table thead th").evaluate_all("hs => hs.map(h => h.dataset.key)")
        assert keys[:2] == ["group", "cost_micros"]
        spend = page.locator("#group-table tbody tr").first.locator("td[data-key=cost_micros]").bounding_box()
        assert spend["x"] + spend["width"] <= width
    finally:
        context.close()


def test_model_colours_are_stable_dated_ids_fold_and_unpriced_is_said(filled, page):
    _add_unpriced_call(filled.store_url)

    def legend(path: str) -> dict[str, tuple[str, str]]:
        page.goto(filled.gw.url + path)
        items = page.locator("ul.legend li.legend-item")
        return {items.nth(i).get_attribute("data-model"): (
            items.nth(i).locator(".swatch").evaluate("e => getComputedStyle(e).backgroundColor"),
            items.nth(i).locator(".muted").inner_text()) for i in range(items.count())}

    everything = legend("/console/?range=24h")
    assert "claude-haiku-4-5" in everything and "claude-sonnet-4-5" in everything
    assert not [m for m in everything if m[-8:].isdigit()]  # -20251001, @20250929: folded into the family
    assert everything["mystery-model-x"][1] == "unpriced"
    assert all(text.startswith("$") for m, (_, text) in everything.items() if m != "mystery-model-x")
    one_team = legend("/console/?range=24h&team=infra")
    assert 0 < len(one_team) < len(everything)
    for model, (colour, _) in one_team.items():  # another set of models beside it: the same colour
        assert colour == everything[model][0]
    hexes = {f"rgb({int(c[1:3], 16)}, {int(c[3:5], 16)}, {int(c[5:7], 16)})" for c in PALETTE}
    assert {colour for colour, _ in everything.values()} <= hexes

    page.goto(filled.gw.url + "/console/tables/model?range=24h")
    rows = page.locator("#group-table tbody tr")
    spend = {rows.nth(i).locator("td[data-key=group]").inner_text():
             rows.nth(i).locator("td[data-key=cost_micros]").inner_text() for i in range(rows.count())}
    assert spend["mystery-model-x"] == "unpriced"
    page.goto(filled.gw.url + "/console/tables/team?range=24h")
    rows = page.locator("#group-table tbody tr")
    teams = {rows.nth(i).locator("td[data-key=group]").inner_text():
             rows.nth(i).locator("td[data-key=cost_micros]").inner_text() for i in range(rows.count())}
    assert teams["support"].endswith("+ 1 unpriced") and teams["support"].startswith("$")
