"""The report's landing page, ``index.html``: headline numbers, the rendered notebooks, the files.

Built last, from the files the run has already written into its folder (``scores.csv``,
``changes.csv``, ``targets/``, ``html/``): a number or link whose file is missing is left out.
"""
from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

from churnlab.data.loading import Dataset

__all__ = ["write_index", "headlines", "FILES"]

#: The files the index lists (those present in the folder), with what each holds.
FILES: tuple[tuple[str, str], ...] = (
    ("scores.csv", "one row per active customer: churn probability, expected lifetime, value, health, zone, "
                   "segment, symptoms, reasons"),
    ("targets/targets.xlsx", "the campaign lists, a sheet each, for the people who make the calls"),
    ("targets/proactive.csv", "regular touches due this week, by value tier and channel"),
    ("targets/reactive.csv", "actions on what fired since the previous run, with compensation caps"),
    ("targets/exit_interviews.csv", "the Dead Zone: exit interviews, no compensation"),
    ("changes.csv", "who entered or left each zone since the previous run, and why"),
    ("model_metrics.json", "backtest figures of every model fitted in this run"),
    ("data_quality.csv", "every quarantined input row with table, rule and reason"),
    ("settings.yaml", "the settings of this run"),
    ("manifest.json", "settings, input fingerprint, versions, step timings"),
)


def headlines(folder: str | Path) -> list[tuple[str, str]]:
    """The numbers a reader wants first, as ``(label, value)`` pairs, from the files of the run
    in ``folder`` that exist: customers scored, expected churners, the Red and Dead Zones,
    new Red Zone entries and the length of each campaign list."""
    import pandas as pd

    folder = Path(folder)
    rows: list[tuple[str, str]] = []
    scores_path = folder / "scores.csv"
    if scores_path.is_file():
        scores = pd.read_csv(scores_path)
        rows.append(("customers scored", f"{len(scores):,}"))
        rows.append(("expected churners within the horizon",
                     f"{scores['churn_probability'].sum():,.0f} ({scores['churn_probability'].mean():.1%})"))
        if "zone" in scores:
            for zone, label in (("red", "Red Zone: at risk and worth saving"),
                                ("dead", "Dead Zone: at risk, not worth a rescue (exit interview)")):
                mine = scores[scores["zone"] == zone]
                worth = f", value {mine['value'].sum():,.0f}" if "value" in mine else ""
                rows.append((label, f"{len(mine):,}{worth}"))
    changes = folder / "changes.csv"
    if changes.is_file():
        moved = pd.read_csv(changes)
        if len(moved):
            entered = moved[(moved["change"] == "entered") & (moved["zone"] == "red")]
            rows.append(("entered the Red Zone since the previous run", f"{len(entered):,}"))
    for name in ("proactive", "reactive", "exit_interviews"):
        path = folder / "targets" / f"{name}.csv"
        if path.is_file():
            rows.append((f"{name.replace('_', ' ')} list", f"{len(pd.read_csv(path)):,} rows"))
    return rows


def write_index(folder: str | Path, dataset: Dataset, as_of: date) -> Path:
    """Write ``<folder>/index.html`` for the run of ``as_of`` and return its path.

    ``dataset`` is the validated input (only its customers and quarantined rows are counted);
    the rest comes from the files already in ``folder``: :func:`headlines`, a link to each
    rendered notebook under ``html/`` (and its executed ``.ipynb``) and the :data:`FILES` present.
    """
    folder = Path(folder)
    customers = dataset.tables["customers"]
    quarantined = len(dataset.quarantine)
    pages = sorted(p.name for p in (folder / "html").glob("*.html"))
    links = "\n".join(f'<li><a href="html/{escape(p)}">{escape(p[:-5])}</a> '
                      f'(<a href="notebooks/{escape(p[:-5])}.ipynb">notebook</a>)</li>' for p in pages)
    numbers = [("customers known at the as-of date", f"{len(customers):,}"), *headlines(folder),
               ("quarantined input rows", f"{quarantined:,}")]
    table = "\n".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in numbers)
    file_list = "\n".join(f'<li><a href="{escape(f)}">{escape(f)}</a>: {escape(what)}</li>'
                          for f, what in FILES if (folder / f).exists())
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>churnlab report {as_of}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;line-height:1.5}}
td,th{{padding:.2rem .8rem;text-align:right}} th{{text-align:left}}</style></head>
<body><h1>churnlab report, as of {as_of}</h1>
<table>
{table}
</table>
<h2>Notebooks</h2><ul>
{links}
</ul>
<h2>Files</h2><ul>
{file_list}
</ul></body></html>
"""
    path = folder / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
