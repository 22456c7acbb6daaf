"""The report's landing page, ``index.html``: what a customer-success lead reads on Monday.

At a glance: the headline numbers against the previous run (:func:`headlines`); the zones and
the value at stake run by run, drawn inline; each owner's lists and what falls due this week;
the top rescues with what triggered them; who entered and left the Red Zone; the model's
backtest and the quarantined input against the previous run; then the rendered notebooks and
the files. The figures come from :mod:`churnlab.report.overview`, which reads the files this run
wrote and those of the earlier runs in the same reports folder; a section whose file is missing
says so instead of failing. The page is self-contained (charts are inline SVG images, styles
inline), loads nothing, and the same folder always gives the same bytes.
"""
from __future__ import annotations

import base64
import io
import math
from datetime import date, timedelta
from html import escape
from pathlib import Path

import pandas as pd

from churnlab.data.loading import Dataset
from churnlab.decide.changes import previous_run
from churnlab.report import overview

__all__ = ["write_index", "headlines", "FILES"]

#: The files the index lists (those present in the folder), with what each holds.
FILES: tuple[tuple[str, str], ...] = (
    ("scores.csv", "one row per active customer: churn probability, expected lifetime, value, health, zone, "
                   "segment, symptoms, reasons"),
    ("targets/targets.xlsx", "the campaign lists, a sheet each, for the people who make the calls"),
    ("targets/proactive.csv", "regular touches due this week, by value tier and channel"),
    ("targets/reactive.csv", "actions on what fired since the previous run and the rescues by expected gain, "
                             "with compensation caps"),
    ("targets/exit_interviews.csv", "who churned since the previous run and the Dead Zone about to leave: "
                                    "exit interviews, no compensation"),
    ("targets/win_back.csv", "a purchase log's customers who stopped buying since the previous run: a win-back "
                             "offer, not an exit interview"),
    ("targets/backlog.csv", "rows due this week that did not fit an owner's weekly capacity: listed first next week"),
    ("targets/expired.csv", "rows that waited longer than campaigns.max_wait_days and were not listed again"),
    ("changes.csv", "who entered or left each zone since the previous run, and why"),
    ("model_metrics.json", "backtest figures of every model fitted in this run"),
    ("data_quality.csv", "every quarantined input row with table, rule and reason"),
    ("settings.yaml", "the settings of this run"),
    ("manifest.json", "settings, input fingerprint, versions, step timings"),
)

#: Days after the as-of date within which a target row counts as due this week.
DUE_DAYS = 7
#: How many Red Zone entries and exits the page names (changes.csv has them all).
MOVES_SHOWN = 5
#: How many rescues the page lists, from the top of targets/reactive.csv.
RESCUES_SHOWN = 10

_STYLE = """
.note{background:#fff4e5;border-left:4px solid #e6a23c;padding:.4rem .8rem;margin:.4rem 0}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:64rem;margin:0 auto;padding:1rem;
 line-height:1.45;color:#222}
h1{font-size:1.5rem;margin:.5rem 0 .2rem} h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #ddd}
.sub{color:#555;margin:0 0 1rem} .muted{color:#666} small{color:#666}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.6rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.5rem .7rem;background:#fafafa}
.card b{display:block;font-size:1.35rem;font-variant-numeric:tabular-nums}
.card span{font-size:.85rem;color:#555}
.card.red{border-left:5px solid #c62828}
.charts{display:flex;flex-wrap:wrap;gap:1rem}
.charts figure{flex:1 1 22rem;margin:0;min-width:0} .charts img{width:100%;height:auto;display:block}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.3rem 0 .8rem;font-size:.92rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.now td{font-weight:600}
.up{color:#b71c1c} .down{color:#1b5e20}
.trigger{font-weight:600} .nw{white-space:nowrap}
@media (max-width:40rem){
 body{padding:.6rem} table{font-size:.8rem} th,td{padding:.2rem .35rem}
 table.stack,table.stack tbody,table.stack tr,table.stack td{display:block}
 table.stack tr:first-child{display:none} table.stack tr{border-bottom:1px solid #ccc;padding:.3rem 0}
 table.stack td{border:0;padding:.1rem .3rem} table.stack td.num{text-align:left}
 table.stack td[data-label]::before{content:attr(data-label) ": ";color:#666}
}
"""


def _count(n) -> str:
    return "" if _missing(n) else f"{int(n):,}"


def _money(x) -> str:
    return "" if _missing(x) else f"{x:,.0f}"


def _pct(p) -> str:
    """A probability in percent, with a decimal below 10% so that 0.4% does not read as 0%."""
    return "" if _missing(p) else f"{p:.1%}" if p < 0.1 else f"{p:.0%}"


def _auc(x) -> str:
    return "" if _missing(x) else f"{x:.3f}"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA


def _day(iso: str) -> str:
    """``2026-06-23`` as ``23 Jun 2026``."""
    return pd.Timestamp(iso).strftime("%d %b %Y")


def _short_day(text: str) -> str:
    """A date as ``26 Jun``; text that is not a date as it is."""
    when = pd.to_datetime(text, errors="coerce")
    return text if pd.isna(when) else when.strftime("%d %b")


def _change(now, before, fmt=_count, worse_when_up: bool = True) -> str:
    """``now`` against ``before`` as escaped HTML: ``+12`` in red when up is worse, and so on."""
    if _missing(now) or _missing(before):
        return ""
    diff = now - before
    if abs(diff) < 1e-12:
        return "no change"
    text = ("+" if diff > 0 else "−") + fmt(abs(diff))
    return f'<span class="{"up" if (diff > 0) == worse_when_up else "down"}">{escape(text)}</span>'


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset(), *,
           html_cells: set[int] = frozenset(), now: int | None = None, stack: bool = False) -> str:
    """An HTML table; every cell is escaped except the columns in ``html_cells`` (built here
    from escaped parts), ``numeric`` columns are right-aligned and row ``now`` is bold. A
    ``stack`` table shows each row as a block in a narrow window, numbers labelled."""
    def cell(i, value, tag="td"):
        cls = ' class="num"' if i in numeric else ""
        label = f' data-label="{escape(head[i])}"' if stack and tag == "td" and i in numeric and head[i] != "#" else ""
        return f"<{tag}{cls}{label}>{value if i in html_cells and tag == 'td' else escape(str(value))}</{tag}>"

    header = "".join(cell(i, h, "th") for i, h in enumerate(head))
    body = "\n".join(("<tr class=\"now\">" if r == now else "<tr>") + "".join(cell(i, v) for i, v in enumerate(row))
                      + "</tr>" for r, row in enumerate(rows))
    table = '<table class="stack">' if stack else "<table>"
    return f'<div class="scroll">{table}\n<tr>{header}</tr>\n{body}\n</table></div>'


def _svg_image(plot, trend: pd.DataFrame, alt: str) -> str:
    """``plot(trend, ax)`` as an inline ``<img>`` of a base64 SVG: self-contained, and the same
    bytes every time (no date in the metadata, a fixed salt for the element ids)."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"svg.hashsalt": "churnlab-index", "svg.fonttype": "path", "font.size": 9}):
        fig = Figure(figsize=(5.6, 3.4))
        plot(trend, ax=fig.add_subplot())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight",
                    metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/svg+xml;base64,{data}" alt="{escape(alt)}">'


def _row_of(trend: pd.DataFrame, when: str | None) -> pd.Series | None:
    mine = trend[trend["as_of"] == when] if when else trend.iloc[0:0]
    return mine.iloc[0] if len(mine) else None


def headlines(folder: str | Path, as_of: date, quarantined: int | None = None) -> list[tuple[str, str, str]]:
    """The numbers a reader wants first, as ``(label, value, change)`` triples (``change`` is
    escaped HTML against the previous run, empty when there is none), from the files of the run
    in ``folder`` and of the previous run beside it: the Red and Dead Zones, the value at stake,
    Red Zone entries and exits, rows due this week, the model's ROC AUC and the quarantined
    input rows (``quarantined`` when given, else ``data_quality.csv``'s rows)."""
    folder = Path(folder)
    before = previous_run(folder.parent, as_of)
    trend = overview.zone_trend(folder, as_of)
    now, then = _row_of(trend, as_of.isoformat()), _row_of(trend, before.name if before else None)
    rows: list[tuple[str, str, str]] = []
    if now is not None:
        for zone, label in (("red", "Red Zone: worth a rescue"), ("dead", "Dead Zone: exit interviews")):
            rows.append((label, _count(now[zone]), _change(now[zone], None if then is None else then[zone])))
        rows.append(("value at stake", _money(now["value_at_stake"]),
                     _change(now["value_at_stake"], None if then is None else then["value_at_stake"], _money)))
    moves = overview.red_zone_moves(folder, before)
    if moves is not None and before is not None:
        entered, left = (int((moves["change"] == c).sum()) for c in ("entered", "left"))
        rows.append(("into / out of the Red Zone", f"{entered:,} / {left:,}", ""))
    owners = overview.owner_lists(folder, as_of, DUE_DAYS)
    if len(owners):
        rows.append((f"list rows due by {_short_day((as_of + timedelta(days=DUE_DAYS)).isoformat())}",
                     _count(owners["due"].sum()), ""))
    model, model_before = overview.model_health(folder), overview.model_health(before) if before else None
    if model and not _missing(model["roc_auc"]):
        rows.append((f"ROC AUC ({model['classifier']})", _auc(model["roc_auc"]),
                     _change(model["roc_auc"], (model_before or {}).get("roc_auc"), _auc, worse_when_up=False)))
    if quarantined is None:
        quarantined = _quarantined(folder, None)
    if quarantined is not None:
        rows.append(("quarantined rows", _count(quarantined),
                     _change(quarantined, _quarantined(before, None) if before else None)))
    return rows


def _quarantined(folder: Path, dataset: Dataset | None) -> int | None:
    """Quarantined input rows: data_quality.csv's rows, else the dataset's quarantine."""
    counts = overview.quarantined_rows(folder)
    if counts is not None:
        return int(counts["rows"].sum())
    return len(dataset.quarantine) if dataset is not None else None


def _cards(rows: list[tuple[str, str, str]]) -> str:
    if not rows:
        return '<p class="muted">No scores in this run: nothing to summarise.</p>'
    return '<div class="cards">' + "".join(
        f'<div class="card{" red" if label.startswith("Red") else ""}"><b>{escape(value)}</b>'
        f'<span>{escape(label)}{" · " + change if change else ""}</span></div>'
        for label, value, change in rows) + "</div>"


def _trend_section(trend: pd.DataFrame, as_of: date) -> str:
    if trend.empty:
        return '<p class="muted">No scores.csv in this run or an earlier one.</p>'
    runs = len(trend)
    intro = (f"This run and the {'run' if runs == 2 else f'{runs - 1} runs'} before it in this reports folder."
             if runs > 1 else
             "The first run in this reports folder: later runs will show the trend.")
    intro += " Value at stake: the sum of churn probability x value, what the churn expected now would cost."
    charts = (f'<div class="charts" id="trend"><figure>{_svg_image(overview.plot_zone_sizes, trend, "customers per zone, run by run")}</figure>'
              f'<figure>{_svg_image(overview.plot_value_at_stake, trend, "value at stake by zone, run by run")}</figure></div>')
    newest = trend.iloc[::-1].reset_index(drop=True)
    rows = [[_day(r.as_of) + (" (this run)" if r.as_of == as_of.isoformat() else ""), _count(r.customers),
             *(_count(getattr(r, z)) for z in overview.ZONES), _money(r.red_at_stake), _money(r.value_at_stake)]
            for r in newest.itertuples(index=False)]
    head = ["run", "customers", "red", "dead", "watch", "healthy", "at stake in red", "value at stake"]
    now = 0 if newest["as_of"].iloc[0] == as_of.isoformat() else None
    return f'<p>{escape(intro)}</p>\n{charts}\n' + _table(head, rows, set(range(1, len(head))), now=now)


def _owners_section(folder: Path, as_of: date) -> str:
    owners = overview.owner_lists(folder, as_of, DUE_DAYS)
    if owners.empty:
        return '<p class="muted">No target lists in this run.</p>'
    by = _day((as_of + timedelta(days=DUE_DAYS)).isoformat())
    lists = [c for c in overview.LISTS if c in owners]
    head = ["owner", *(overview.LISTS[c] for c in lists), "total", f"due by {by}",
            *(["carried over"] if "carried_over" in owners else [])]
    keys = ["owner", *lists, "total", "due", *(["carried_over"] if "carried_over" in owners else [])]
    rows = [[str(r[k]) if k == "owner" else _count(r[k]) for k in keys] for _, r in owners.iterrows()]
    rows.append(["all owners", *(_count(owners[k].sum()) for k in keys[1:])])
    note = (f"Rows per owner on each list; due counts rows whose due date is on or before {by}, overdue included."
            + (" Carried over: rows waiting since an earlier week (days_waiting above 0)." if "carried_over" in owners
               else ""))
    return f"<p>{escape(note)}</p>\n" + _table(head, rows, set(range(1, len(head))), now=len(rows) - 1)


def _who(name: str, customer_id: str, owner: str = "") -> str:
    """A customer as escaped HTML: the name on one line, the id (and owner) small below it."""
    below = " · ".join(escape(x) for x in (customer_id, owner) if x)
    return f'<span class="nw">{escape(name or customer_id)}</span><br><small>{below}</small>'


def _rescues_section(folder: Path) -> str:
    top = overview.top_rescues(folder, RESCUES_SHOWN)
    if top.empty:
        return '<p class="muted">No reactive list in this run.</p>'

    def text(r, column) -> str:
        value = r.get(column)
        return "" if _missing(value) else str(value)

    trigger_column = next((c for c in ("trigger_message", "trigger") if c in top), None)
    gain = "expected_gain" in top
    waiting = pd.to_numeric(top["days_waiting"], errors="coerce") if "days_waiting" in top else None
    head = ["#", "customer", "what to do", "why", "value", "churn", *(["expected gain"] if gain else [])]
    rows = []
    for i, r in top.iterrows():
        who = _who(text(r, "name"), text(r, "customer_id"), text(r, "owner"))
        todo = f"<b>{escape(text(r, 'campaign'))}</b>: {escape(text(r, 'action'))}"
        extra = [f"offer: {text(r, 'offer')}" if text(r, "offer") else "",
                 f"due {_short_day(text(r, 'due_date'))}" if text(r, "due_date") else "",
                 f"waiting {_count(waiting[i])} days" if waiting is not None and waiting[i] > 0 else "",
                 f"also due: {text(r, 'also_due')}" if text(r, "also_due") else ""]
        todo += "".join(f"<br><small>{escape(e)}</small>" for e in extra if e)
        why = ""
        if trigger_column and text(r, trigger_column):
            since = f" (since {text(r, 'triggered_on')})" if text(r, "triggered_on") else ""
            why = f'<span class="trigger">{escape(text(r, trigger_column) + since)}</span><br>'
        why += escape(text(r, "reasons").replace(";", "; ").replace("  ", " "))
        rows.append([str(i + 1), who, todo, why, _money(r.get("value")), _pct(r.get("churn_probability")),
                     *([_money(pd.to_numeric(r["expected_gain"], errors="coerce"))] if gain else [])])
    numeric = {0, 4, 5, *([6] if gain else [])}
    return ('<p>The top of targets/reactive.csv, in its priority order.</p>\n'
            + _table(head, rows, numeric, html_cells={1, 2, 3}, stack=True))


def _moves_section(folder: Path, before: Path | None) -> str:
    moves = overview.red_zone_moves(folder, before)
    if before is None:
        return '<p class="muted">The first run in this reports folder: no earlier run to compare with.</p>'
    if moves is None:
        return '<p class="muted">No changes.csv in this run.</p>'
    parts = [f"<p>Since the run of {escape(_day(before.name))}.</p>"]
    for change, title in (("entered", "Entered the Red Zone"), ("left", "Left the Red Zone")):
        mine = moves[moves["change"] == change]
        parts.append(f"<h3>{title}: {len(mine):,}</h3>")
        if mine.empty:
            continue
        rows = [[_who(r.name, r.customer_id), escape(r.reason), _money(r.value)]
                for r in mine.head(MOVES_SHOWN).itertuples(index=False)]
        parts.append(_table(["customer", "reason", "value"], rows, {2}, html_cells={0, 1}, stack=True))
        if len(mine) > MOVES_SHOWN:
            parts.append(f'<p class="muted">The {MOVES_SHOWN} most valuable of {len(mine):,}; all are in '
                         '<a href="changes.csv">changes.csv</a>.</p>')
    return "\n".join(parts)


def _health_section(folder: Path, before: Path | None, quarantined: int | None) -> str:
    model = overview.model_health(folder)
    old = overview.model_health(before) if before else None
    old_q = _quarantined(before, None) if before else None
    then = f"previous run ({_day(before.name)})" if before else "previous run"
    rows = []
    if model:
        o = old or {}
        rows.append(["classifier chosen", model["classifier"] or "", o.get("classifier") or "", ""])
        for key, label in (("roc_auc", "backtest ROC AUC"), ("pr_auc", "backtest PR AUC"),
                           ("lift_top10", "lift in the top 10%")):
            rows.append([label, _auc(model[key]), _auc(o.get(key)),
                         _change(model[key], o.get(key), _auc, worse_when_up=False)])
        rows.append([f"survival model ({model['survival']}): concordance", _auc(model["concordance"]),
                     _auc(o.get("concordance")), _change(model["concordance"], o.get("concordance"), _auc,
                                                         worse_when_up=False)])
    rows.append(["quarantined input rows", _count(quarantined), _count(old_q), _change(quarantined, old_q)])
    note = ("" if model else '<p class="muted">No model_metrics.json in this run.</p>\n')
    if model:
        note = (f"<p>Backtest of the chosen models over {model['folds']} {escape(str(model['backtest']))} "
                "fold(s), mean figures (higher is better).</p>\n")
    if before is None:  # a first run: nothing to compare with
        parts = [note + _table(["figure", "this run"], [r[:2] for r in rows], {1})]
    else:
        parts = [note + _table(["figure", "this run", then, "change"], rows, {1, 2, 3}, html_cells={3})]
    counts = overview.quarantined_rows(folder)
    if counts is not None and len(counts):
        parts.append("<p>Quarantined rows by table and rule (details in "
                     '<a href="data_quality.csv">data_quality.csv</a>):</p>')
        parts.append(_table(["table", "rule", "rows"], [[r.table, r.rule, _count(r.rows)]
                                                         for r in counts.head(8).itertuples(index=False)], {2}))
    return "\n".join(parts)


def write_index(folder: str | Path, dataset: Dataset | None, as_of: date, notes: list[str] | tuple = ()) -> Path:
    """Write ``<folder>/index.html`` for the run of ``as_of`` and return its path.

    ``folder`` is the run's folder (its staging folder while the run writes); the earlier runs
    are the dated folders beside it. ``dataset`` is the validated input: its customers are
    counted, and its quarantine when the folder has no ``data_quality.csv``. The rest comes from
    the files in the folders: :func:`headlines`, the trend, owners, rescues, Red Zone moves and
    model health sections, a link to each rendered notebook under ``html/`` (and its executed
    ``.ipynb``) and the :data:`FILES` present. ``notes`` are sentences a reader must see first
    (e.g. that the value is unknown and the zones follow risk alone), shown above the numbers.
    """
    folder = Path(folder)
    before = previous_run(folder.parent, as_of)
    customers = dataset.table("customers") if dataset is not None else None
    quarantined = _quarantined(folder, dataset)
    pages = sorted(p.name for p in (folder / "html").glob("*.html"))
    links = "\n".join(f'<li><a href="html/{escape(p)}">{escape(p[:-5])}</a> '
                      f'(<a href="notebooks/{escape(p[:-5])}.ipynb">notebook</a>)</li>' for p in pages)
    file_list = "\n".join(f'<li><a href="{escape(f)}">{escape(f)}</a>: {escape(what)}</li>'
                          for f, what in FILES if (folder / f).exists())
    sub = [f"{len(customers):,} customers known at the as-of date" if customers is not None else "",
           f"compared with the run of {_day(before.name)}" if before else "the first run in this reports folder"]
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>churnlab report {as_of}</title>
<style>{_STYLE}</style></head>
<body><h1>Churn report, as of {escape(_day(as_of.isoformat()))}</h1>
<p class="sub">{escape("; ".join(s for s in sub if s))}.</p>
{"".join(f'<p class="note">{escape(n)}</p>' for n in notes)}
{_cards(headlines(folder, as_of, quarantined))}
<h2>Zones and value at stake, run by run</h2>
{_trend_section(overview.zone_trend(folder, as_of), as_of)}
<h2>Each owner's lists this week</h2>
{_owners_section(folder, as_of)}
<h2>Top rescues</h2>
{_rescues_section(folder)}
<h2>In and out of the Red Zone</h2>
{_moves_section(folder, before)}
<h2>Model and data health</h2>
{_health_section(folder, before, quarantined)}
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
