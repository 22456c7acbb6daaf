"""Tables and plots of the value-and-zones and campaigns notebooks.

Each plot draws on ``ax`` (a new figure when None) and returns the Axes, with a title, labelled
axes and units; each table is a plain DataFrame in a stable order.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.plotting import axes
from churnlab.decide.health import BANDS, COMPONENTS
from churnlab.decide.zones import ZONES

__all__ = ["zone_summary", "band_summary", "value_summary", "plot_value_parts", "plot_health_bands",
           "plot_health_components", "plot_risk_value_map", "plot_rule_counts", "plot_campaign_sizes",
           "segment_summary", "plot_action_rates"]

ZONE_COLOURS = {"red": "#d62728", "dead": "#7f7f7f", "watch": "#ff7f0e", "healthy": "#2ca02c"}
BAND_COLOURS = {"good": "#2ca02c", "fair": "#e6c229", "weak": "#ff7f0e", "poor": "#d62728"}
_VALUE_PARTS = ["expected_margin", "advocacy_value", "expansion_value"]



def zone_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per zone (red, dead, watch, healthy): ``customers``, ``arr``, ``value`` (summed),
    ``value_at_stake`` (sum of churn_probability x value: what the horizon's churn is expected
    to cost) and ``expected_gain`` (summed over the Red Zone only, where acting pays)."""
    t = table.assign(at_stake=table["churn_probability"] * table["value"])
    g = t.groupby("zone")
    out = pd.DataFrame({
        "customers": g.size(), "arr": g["arr"].sum(), "value": g["value"].sum(),
        "value_at_stake": g["at_stake"].sum(),
    }).reindex(list(ZONES)).fillna(0.0)
    out["customers"] = out["customers"].astype("int64")
    out["expected_gain"] = 0.0
    out.loc["red", "expected_gain"] = float(t.loc[t["zone"] == "red", "expected_gain"].sum())
    out.loc["total"] = out.sum()
    out["customers"] = out["customers"].astype("int64")
    out.index.name = "zone"
    return out


def band_summary(health: pd.DataFrame) -> pd.DataFrame:
    """Per health band: ``customers``, ``share`` and the mean score of each component."""
    cols = [f"health_{c}" for c in COMPONENTS]
    g = health.groupby("health_band")
    out = pd.concat([g.size().rename("customers"), g[cols].mean()], axis=1).reindex(list(BANDS))
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out.insert(1, "share", out["customers"] / max(int(out["customers"].sum()), 1))
    out.columns = [c.removeprefix("health_") for c in out.columns]
    out.index.name = "health_band"
    return out


def value_summary(value: pd.DataFrame) -> pd.DataFrame:
    """Totals of ARR and of each value part, with the number of customers where the part is > 0."""
    cols = ["arr", *_VALUE_PARTS, "value"]
    return pd.DataFrame({"total": value[cols].sum(), "customers_above_zero": (value[cols] > 0).sum()})


def plot_value_parts(value: pd.DataFrame, top: int = 20, ax=None):
    """The ``top`` most valuable customers: stacked value parts beside their ARR."""
    ax = axes(ax, (8.0, 4.5))
    rows = value.sort_values(["value", "customer_id"], ascending=[False, True]).head(top)
    x = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    for part, colour in zip(_VALUE_PARTS, ["#1f77b4", "#9467bd", "#17becf"]):
        ax.bar(x, rows[part], bottom=bottom, color=colour, label=part.replace("_", " "))
        bottom += rows[part].to_numpy()
    ax.scatter(x, rows["arr"], color="black", marker="_", s=200, zorder=3, label="ARR")
    ax.set_xticks(x, rows["customer_id"], rotation=90, fontsize=7)
    ax.set_title(f"The {len(rows)} most valuable customers: value parts beside ARR")
    ax.set_xlabel("customer")
    ax.set_ylabel("value (currency of MRR)")
    ax.legend()
    return ax


def plot_health_bands(health: pd.DataFrame, ax=None):
    """Customers per health band."""
    ax = axes(ax, (5.5, 4.0))
    counts = health["health_band"].value_counts().reindex(list(BANDS)).fillna(0)
    ax.bar(counts.index, counts.to_numpy(), color=[BAND_COLOURS[b] for b in counts.index])
    ax.set_title("Customers per health band")
    ax.set_xlabel("health band")
    ax.set_ylabel("customers")
    return ax


def plot_health_components(health: pd.DataFrame, ax=None):
    """Mean score of each component per health band (missing components left out of the mean)."""
    ax = axes(ax, (8.0, 4.5))
    means = band_summary(health)[list(COMPONENTS)]
    width = 0.8 / max(len(means.index), 1)
    x = np.arange(len(COMPONENTS))
    for i, band in enumerate(means.index):
        ax.bar(x + i * width, means.loc[band].to_numpy(), width, color=BAND_COLOURS[band], label=band)
    ax.set_xticks(x + width * (len(means.index) - 1) / 2, list(COMPONENTS))
    ax.set_ylim(0, 100)
    ax.set_title("Mean component score per health band")
    ax.set_xlabel("component")
    ax.set_ylabel("component score (0-100)")
    ax.legend(title="band")
    return ax


def plot_risk_value_map(table: pd.DataFrame, threshold: float, ax=None):
    """Churn probability against value (log scale), coloured by zone, with the risk threshold.

    Customers of unknown value (NaN: no money in the data, ``churnlab.decide.value``) sit on the
    bottom line with those of no value, so the risk axis still shows everyone."""
    ax = axes(ax, (7.5, 5.0))
    floor = max(float(table.loc[table["value"] > 0, "value"].min()) if (table["value"] > 0).any() else 1.0, 1.0)
    known = table["value"].notna().any()
    for zone in ZONES:
        rows = table[table["zone"] == zone]
        ax.scatter(rows["churn_probability"], rows["value"].fillna(floor).clip(lower=floor), s=9, alpha=0.6,
                   color=ZONE_COLOURS[zone], label=f"{zone} ({len(rows):,})")
    ax.axvline(threshold, color="black", linestyle=":", label=f"risk threshold {threshold:.1%}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title("Risk × value: who is worth saving")
    ax.set_xlabel("churn probability within the horizon (log scale)")
    ax.set_ylabel("value (currency of the money, log scale)" if known else "value unknown (no money in the data)")
    ax.legend(title="zone", loc="lower left", fontsize=8)
    return ax


# -- the campaigns notebook: how often each rule fired, list sizes ----------------------------
def plot_rule_counts(counts: pd.DataFrame, ax=None):
    """Horizontal bars: customers each rule flagged (``churnlab.rule_counts`` output, column ``fired``)."""
    ax = axes(ax, (8, 0.3 * len(counts) + 1.2))
    data = counts.sort_values("fired", kind="stable")
    ax.barh(data["rule"], data["fired"], color="#c0504d")
    ax.set_title("How many customers each rule flags")
    ax.set_xlabel("customers")
    ax.set_ylabel("rule or alert")
    return ax


def plot_campaign_sizes(summary: pd.DataFrame, ax=None):
    """Horizontal bars: rows per campaign, coloured by list (``CampaignPlan.summary()``)."""
    ax = axes(ax, (8, 0.35 * len(summary) + 1.2))
    colours = {"proactive": "#4f81bd", "reactive": "#c0504d", "exit_interviews": "#7f7f7f"}
    labels = summary["list"] + ": " + summary["campaign"]
    ax.barh(labels, summary["customers"], color=[colours.get(k, "#9bbb59") for k in summary["list"]])
    ax.invert_yaxis()
    ax.set_title("Customers on each campaign list this run")
    ax.set_xlabel("customers")
    ax.set_ylabel("list: campaign")
    return ax


def segment_summary(segments: pd.DataFrame, scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Customers, mean churn probability and value per combination of ``by`` segment parts."""
    frame = segments.merge(scores, on="customer_id", how="left")
    agg = {"customers": ("customer_id", "size"), "mean_churn_probability": ("churn_probability", "mean")}
    if "value" in frame:
        agg["value"] = ("value", "sum")
    return frame.groupby(by, observed=True).agg(**agg).reset_index().sort_values(by, kind="stable")


def plot_action_rates(rates: pd.DataFrame, ax=None):
    """Points with interval bars: each action's uplift per segment (``action_rates`` output),
    in percentage points; rows without a control group show their save rate's point only."""
    data = rates[rates["uplift"].notna()]
    ax = axes(ax, (8, 0.32 * max(len(data), 1) + 1.4))
    if data.empty:
        ax.text(0.5, 0.5, "no campaign held customers out: no uplift to show", ha="center", va="center",
                transform=ax.transAxes)
    else:
        labels = data["action"] + " | " + data["segment"].astype(str)
        y = np.arange(len(data))[::-1]
        mid = 100 * data["uplift"].to_numpy()
        err = 100 * np.vstack([data["uplift"] - data["uplift_low"], data["uplift_high"] - data["uplift"]])
        ax.errorbar(mid, y, xerr=err, fmt="o", color="#4f81bd", ecolor="#9db7d8", capsize=3)
        ax.axvline(0, color="#7f7f7f", linestyle=":")
        ax.set_yticks(y, labels)
    ax.set_title("Uplift of each action by segment: contacted against held-out customers")
    ax.set_xlabel("customers still there after the save window, contacted minus held out (percentage points)")
    ax.set_ylabel("action | segment")
    return ax
