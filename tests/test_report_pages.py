"""The report as reviewers see it: pages open in headless Chromium without errors, and every
figure a notebook shows comes from a plotting function that gives it a title and axis labels."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPORT_AS_OF

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or "")
                 if p and Path(p).exists()), None)
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _open(page_path: Path, shot: Path, boxes: dict[str, dict | None] | None = None) -> list[str]:
    """Open a local page in headless Chromium, screenshot it, return the errors it raised.

    ``boxes``, when given, maps CSS selectors to fill in with the bounding box (``x``, ``y``,
    ``width``, ``height`` in CSS pixels) of every element they match, None for one not visible.
    """
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
        page.on("requestfailed", lambda req: errors.append(f"failed to load {req.url}"))
        response = page.goto(page_path.as_uri(), wait_until="load")
        assert response is None or response.ok
        for selector in boxes or {}:
            boxes[selector] = [e.bounding_box() if e.is_visible() else None
                               for e in page.locator(selector).all()]
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    return errors


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
@pytest.mark.parametrize("page", ["index.html", "html/03_models.html"])
def test_report_page_opens_in_headless_chromium_without_errors(report, page, tmp_path):
    shot = tmp_path / "page.png"
    errors = _open(report / page, shot)
    assert errors == []
    assert shot.stat().st_size > 10_000   # a rendered page, not a blank one


def test_index_links_only_to_files_that_exist(report):
    index = (report / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"#]+)"', index)
    assert links
    for link in links:
        assert (report / link).exists(), link


_RAW_PLOTTING = re.compile(r"\bplt\.|\.plot\(|\.hist\(|\.scatter\(|\.bar\(|\.barh\(|sns\.")


@pytest.mark.parametrize("notebook", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_figures_come_from_package_plot_functions(notebook):
    # Package plot functions are each tested for a title and labelled axes; a notebook drawing
    # with matplotlib directly would escape that check.
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    raw = [src for c in cells if c["cell_type"] == "code"
           for src in ["".join(c["source"])] if _RAW_PLOTTING.search(src)]
    assert raw == []


def test_data_health_plots_have_titles_and_axis_labels(small_demo):
    import matplotlib
    matplotlib.use("agg")
    import churnlab
    from churnlab.features import data_health
    dataset = churnlab.load_data(small_demo, as_of=REPORT_AS_OF)
    for ax in (data_health.plot_monthly_movements(data_health.monthly_movements(dataset["customers"])),
               data_health.plot_monthly_rows(data_health.monthly_rows(dataset))):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_rendered_pages_load_nothing_from_the_internet(report):
    for page in (report / "html").glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert re.findall(r'(?:src|href)="(https?://[^"]+)"', html) == [], page.name
