"""Draw the app icons (PNG, 192 and 512 px, one maskable) from the SVGs in static/icons.

Run once after changing an SVG: `.venv/bin/python scripts/render_icons.py`; commit the PNGs.
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
RENDERS = [
    ("clover.svg", "clover-192.png", 192),
    ("clover.svg", "clover-512.png", 512),
    ("clover-maskable.svg", "clover-maskable-512.png", 512),
]

RESIZE = "(svg, n) => { svg.setAttribute('width', n); svg.setAttribute('height', n); }"


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        for source, target, size in RENDERS:
            page = browser.new_page(viewport={"width": size, "height": size})
            svg = (ICONS / source).read_text()
            page.set_content(f"<body style='margin:0'>{svg}</body>")
            page.locator("svg").evaluate(RESIZE, size)
            page.screenshot(path=str(ICONS / target), omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
