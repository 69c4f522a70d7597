"""Draw the app icons (PNG: 180 px for the iPhone Home Screen, 192 and 512 px, each also
maskable) from the SVGs in static/icons.

Run once after changing an SVG: `.venv/bin/python scripts/render_icons.py [PNG name ...]`
(every icon when no name is given); commit the PNGs.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
RENDERS = [
    # opaque, full bleed: iOS rounds the corners itself and shows transparent ones black
    ("clover-maskable.svg", "clover-180.png", 180),
    ("clover.svg", "clover-192.png", 192),
    ("clover.svg", "clover-512.png", 512),
    ("clover-maskable.svg", "clover-maskable-192.png", 192),
    ("clover-maskable.svg", "clover-maskable-512.png", 512),
]

RESIZE = "(svg, n) => { svg.setAttribute('width', n); svg.setAttribute('height', n); }"


def main(names: list[str]) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        for source, target, size in RENDERS:
            if names and target not in names:
                continue
            page = browser.new_page(viewport={"width": size, "height": size})
            svg = (ICONS / source).read_text()
            page.set_content(f"<body style='margin:0'>{svg}</body>")
            page.locator("svg").evaluate(RESIZE, size)
            page.screenshot(path=str(ICONS / target), omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1:])
