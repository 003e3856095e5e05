"""In a real browser: run a notebook in JupyterLab, turn a control, see the chart change."""

from __future__ import annotations

import nbformat
import pytest

pytestmark = pytest.mark.slow

CELLS = [
    "import ipywidgets as w, pandas as pd\n"
    "from journeylib.result import Result\nfrom journeylib.sql import SQL\n"
    "from journeylib.widgets import AnalysisPanel",
    "def steps(within):\n"
    "    users = {'1d': 2, '7d': 7}[within]\n"
    "    return Result(f'Funnel within {within}', pd.DataFrame({'step': ['view', 'buy'], 'users': [10, users]}), SQL(''))",
    "AnalysisPanel('Funnel', steps, {'within': w.Dropdown(options=['1d', '7d'], value='1d')})",
]


def titles(page) -> list[str]:
    return page.eval_on_selector_all(
        ".vega-embed svg .role-title-text", "nodes => nodes.map(n => n.textContent)"
    )


def run_all(page) -> None:
    """Run all cells; the first request after a fresh start is sometimes ignored, so retry."""
    for _ in range(3):
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        try:
            page.wait_for_selector(".vega-embed svg .role-title-text", timeout=30_000)
            return
        except Exception:
            page.wait_for_timeout(1000)
    raise AssertionError("the notebook's chart never drew")


def test_changing_a_control_redraws_the_chart(lab, browser, artifacts):
    url, root = lab
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(book, root / "panel.ipynb")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url.format(path="panel.ipynb"))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=60_000)
    run_all(page)
    assert titles(page) == ["Funnel within 1d"]
    page.screenshot(path=str(artifacts / "panel-before.png"))
    page.select_option(".widget-dropdown select", "7d")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.vega-embed svg .role-title-text')]"
        ".some(n => n.textContent === 'Funnel within 7d')",
        timeout=30_000,
    )
    assert titles(page) == ["Funnel within 7d"]
    page.screenshot(path=str(artifacts / "panel-after.png"))
    page.close()
