"""report.html is one self-contained page that displays: parsed structurally here (every SVG is
well-formed XML, nothing is fetched from a network), and rendered to PNG by headless Chromium
when it is installed (`apt-get install chromium`; the test installs nothing and skips without it)."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ElementTree
import zlib
from html.parser import HTMLParser

import pytest

from fabula.validate import Report
from fabula.validate.html import render_html


class Page(HTMLParser):
    """Tags, attributes and SVG fragments of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.add(attributes["id"])


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def svgs(html: str) -> list[str]:
    found, start = [], 0
    while (begin := html.find("<svg", start)) != -1:
        end = html.index("</svg>", begin) + len("</svg>")
        found.append(html[begin:end])
        start = end
    return found


@pytest.fixture(scope="module")
def page(shop_output) -> str:
    return (shop_output / "report.html").read_text(encoding="utf-8")


def test_self_contained(page):
    tags = parsed(page).tags
    names = {tag for tag, _ in tags}
    assert "script" not in names and "link" not in names and "img" not in names and "iframe" not in names
    for tag, attributes in tags:
        for key in ("src", "href"):
            assert not str(attributes.get(key, "")).startswith(("http:", "https:", "//")), (tag, attributes)
    assert "@import" not in page and "url(" not in page


def test_sections_and_verdicts(page, shop_output):
    html = parsed(page)
    assert {"timelines", "family-structure", "family-columns", "family-expectations", "family-guidance"} <= html.ids
    report = json.loads((shop_output / "report.json").read_text())
    for check in report["checks"]:
        assert check["name"].replace("'", "&#x27;").replace("&", "&amp;") in page or check["name"] in page


def test_every_plot_is_well_formed_svg(page, shop_output):
    report = json.loads((shop_output / "report.json").read_text())
    plotted = [check for check in report["checks"] if check["details"].get("plot") in ("histogram", "shares")]
    figures = svgs(page)
    assert len(figures) == len(plotted) > 5
    for figure in figures:
        root = ElementTree.fromstring(figure)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        shapes = [element for element in root.iter() if element.tag.endswith(("rect", "polyline", "line"))]
        assert len(shapes) > 3
    histogram = next(check for check in plotted if check["details"]["plot"] == "histogram")
    shown = figures[plotted.index(histogram)]
    assert "polyline" in shown, "the declared density is drawn over the observed bars"


def test_a_failed_check_shows_as_failed():
    report = Report.from_dict({
        "dataset": "d", "seed": 1, "as_of": "2024-12-31", "scale": 1.0, "spec_hash": "0" * 64, "rows": {"t": 3},
        "checks": [{"family": "columns", "name": "t.x shares <&>", "verdict": "fail", "message": "a 'b' \"c\"",
                    "details": {"plot": "shares", "levels": ["<a>"], "observed": [1.0], "expected": [0.5]}}]})
    html = render_html(report)
    assert 'class="banner fail"' in html and "FAIL: 0 passed" in html
    assert "t.x shares &lt;&amp;&gt;" in html and "&lt;a&gt;" in html
    for figure in svgs(html):
        ElementTree.fromstring(figure)


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                    reason="headless Chromium is not installed (apt-get install chromium)")
def test_chromium_renders_it(shop_output, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    picture = tmp_path / "report.png"
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,3000",
               f"--screenshot={picture}", (shop_output / "report.html").as_uri()]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    width, height, colours = png_summary(picture.read_bytes())
    assert (width, height) == (1200, 3000)
    assert colours > 50, "a blank page has a handful of colours; text, badges and plots have many"
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          (shop_output / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert dom.count("<svg") == svgs((shop_output / "report.html").read_text()).__len__()


def png_summary(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct pixel values in the first rows) of an 8-bit RGB(A) PNG, read
    with the standard library (no imaging package needed)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    idat = b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IDAT":
            idat += body
        else:
            chunks.setdefault(kind, body)
        position += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and colour_type in (2, 6)
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    seen = set()
    for row in range(min(height, 1500)):
        line = raw[row * stride + 1:(row + 1) * stride]  # filtered bytes: distinct values still tell blank from not
        seen.update(line[::channels * 7])
    return width, height, len(seen)
