"""Purchase logs without a customers table or contracts: read through a mapping (whitespace
columns, customers built from the events), churn by inactivity with re-activation, the win-back list."""
from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from churnlab.data.loading import load_data
from churnlab.data.mapping import MappingError, customers_from_events
from churnlab.settings import MappingSettings, load_mapping

# A CDNOW-like log, columns lined up by blanks: customer 1 buys twice, customer 2 once, customer 3
# three times with a long pause; one row has a date that is not a date.
LOG = """customer_id  date  number_of_cds  dollar_value
 00001 19970101  1   11.77
 00001 19970115  2   20.00
 00002 19970112  5   77.00
 00003 19970102  1   10.00
 00003 19970301  1   12.00
 00003 19971001  3   30.00
 00004 1997XX01  1   10.00
"""


def _log(tmp_path, name="purchases.txt", text=LOG):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_whitespace_purchase_log_loads_through_the_shipped_mapping(tmp_path):
    data = load_data(_log(tmp_path), as_of="1997-12-31", mapping=load_mapping("cdnow"))
    events = data["usage_events"]
    assert len(events) == 6                       # the row with a broken date is quarantined
    assert data.quarantine["rule"].tolist() == ["unparseable_date"]
    assert events["amount"].sum() == pytest.approx(11.77 + 20 + 77 + 10 + 12 + 30)
    assert events["quantity"].tolist() == [1.0, 2.0, 5.0, 1.0, 1.0, 3.0]
    customers = data["customers"].set_index("customer_id")
    # signup = the day of the first purchase; the customer of the broken row has none
    assert customers["signup_date"].dt.strftime("%Y-%m-%d").to_dict() == {
        "00001": "1997-01-01", "00002": "1997-01-12", "00003": "1997-01-02"}


def test_a_txt_log_read_with_commas_says_to_set_the_separator(tmp_path):
    mapping = MappingSettings.model_validate({"tables": {
        "usage_events": {"columns": {"customer_id": "customer_id", "ts": "date"},
                         "constants": {"event_type": "purchase"}},
        "customers": {"from_events": "usage_events"}}})
    with pytest.raises(MappingError, match="separator: whitespace"):
        load_data(_log(tmp_path), as_of="1997-12-31", mapping=mapping)


def test_customers_from_events_take_no_other_keys():
    with pytest.raises(ValidationError, match="take no other keys"):
        MappingSettings.model_validate({"tables": {
            "usage_events": {"columns": {"customer_id": "id"}},
            "customers": {"from_events": "usage_events", "source": "people"}}})
    with pytest.raises(ValidationError, match="is not mapped"):
        MappingSettings.model_validate({"tables": {"customers": {"from_events": "usage_events"}}})


def test_customers_from_events_are_one_row_per_customer_at_its_first_event():
    events = pd.DataFrame({"customer_id": ["b", "a", "b", None],
                           "ts": pd.to_datetime(["2024-03-05 10:00", "2024-01-02 00:00", "2024-02-01 09:30", "2024-01-01 00:00"])})
    customers = customers_from_events(events)
    assert customers["customer_id"].tolist() == ["a", "b"]
    assert customers["signup_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-02", "2024-02-01"]


# -- churn by inactivity ---------------------------------------------------------------------
# Window 30 days. Customer A buys 01-01, 01-20, lapses on 02-19 (01-20 + 30), buys again 04-10:
# active again, lapsing 05-10 unless it buys. B buys 01-05 and 03-25: active at 03-31 (no gap over
# 30 days: 01-05 -> 03-25 is 79 days, so it lapsed on 02-04 and is back since 03-25). C buys 01-20
# and 02-15: lapses on 03-16, before the as-of date 03-31. D buys 03-02 only: lapses on 04-01, after it.
PURCHASES = pd.DataFrame({
    "customer_id": ["A", "A", "A", "B", "B", "C", "C", "D"],
    "ts": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-04-10", "2024-01-05", "2024-03-25",
                          "2024-01-20", "2024-02-15", "2024-03-02"]),
    "event_type": "purchase",
})


def _purchase_dataset(as_of="2024-03-31"):
    from churnlab.data.loading import dataset_from_frames
    from churnlab.data.mapping import customers_from_events

    return dataset_from_frames({"customers": customers_from_events(PURCHASES), "usage_events": PURCHASES},
                               as_of=as_of)


def test_a_lapsed_customer_who_buys_again_is_active_again():
    from churnlab.features.engine import activity_episodes

    spells = activity_episodes(_purchase_dataset("2024-04-30"), "2024-04-30", "inactivity", 30)
    a = spells[spells["customer_id"] == "A"]
    assert a["start"].dt.strftime("%m-%d").tolist() == ["01-01", "04-10"]
    assert a["lapse"].iloc[0] == pd.Timestamp("2024-02-19")   # 01-20 + 30 days
    assert pd.isna(a["lapse"].iloc[1])                         # 04-10 + 30 is after the as-of date


def test_only_customers_active_on_the_as_of_date_are_scored():
    from churnlab.features.engine import build_features

    data = _purchase_dataset()
    active = build_features(data, "2024-03-31", "inactivity", 30)["customer_id"].tolist()
    # A lapsed 02-19 (its next purchase is after the as-of date), C lapsed 03-16
    assert active == ["B", "D"]
    assert build_features(data, "2024-03-31", "contract")["customer_id"].tolist() == ["A", "B", "C", "D"]


def test_the_training_labels_follow_the_same_spells():
    from churnlab.features.engine import build_training_set

    train = build_training_set(_purchase_dataset(), "2024-03-31", horizon_days=30,
                               snapshots=["2024-01-31", "2024-02-29"], churn="inactivity", inactivity_days=30)
    rows = {(r.snapshot.strftime("%m-%d"), r.customer_id): r for r in train.itertuples()}
    # at 01-31: A (lapses 02-19) and B (lapses 02-04) churn within 30 days; C (active until 03-16) not
    assert rows[("01-31", "A")].churned == 1 and rows[("01-31", "B")].churned == 1
    assert rows[("01-31", "C")].churned == 0
    # at 02-29 A and B have lapsed and are not in the population; C lapses on 03-16
    assert ("02-29", "A") not in rows and ("02-29", "B") not in rows
    assert rows[("02-29", "C")].churned == 1 and rows[("02-29", "C")].duration_days == 16


def test_lapsed_customers_since_the_previous_run_are_the_win_back_list(tmp_path):
    from churnlab.features.engine import activity_episodes
    from churnlab.report.history import lapsed_since
    from churnlab.report.outputs import write_win_back

    data = _purchase_dataset()
    spells = activity_episodes(data, "2024-03-31", "inactivity", 30)
    previous = tmp_path / "2024-03-10"                           # a run three weeks earlier
    lapsed = lapsed_since(spells, previous, "2024-03-31")
    assert lapsed["customer_id"].tolist() == ["C"]               # A lapsed before 03-10; B is back
    assert lapsed_since(spells, None, "2024-03-31")["customer_id"].tolist() == []  # none in the last week
    path = write_win_back(tmp_path, lapsed, data["customers"], "2024-03-31")
    table = pd.read_csv(path, dtype=str)
    assert table[["customer_id", "campaign", "lapsed_on"]].values.tolist() == [["C", "win-back", "2024-03-16"]]


def test_the_inactivity_window_follows_the_gaps_and_warns_when_set_too_short():
    from churnlab.features.activity import window_from_gaps, window_warnings

    gaps = [10] * 17 + [60, 60, 200]
    assert window_from_gaps(gaps) == 63                          # the 90% quantile, 60, rounded up to weeks
    assert window_warnings(63, gaps) == []
    assert "shorter than the typical gap" in window_warnings(7, gaps)[0]
    assert "longer than the 50 days" in window_warnings(63, gaps, span_days=50)[0]


def test_the_notebooks_features_follow_the_runs_churn_rule(tmp_path):
    """Notebooks score handoff.features_at(dataset, as_of, out): the dataset opened with the run's
    settings carries its inactivity rule, so lapsed customers never reach scores or lists."""
    from churnlab.report import handoff
    from churnlab.settings import Settings

    folder = tmp_path / "log"
    folder.mkdir()
    from churnlab.data.mapping import customers_from_events

    customers_from_events(PURCHASES).to_csv(folder / "customers.csv", index=False)
    PURCHASES.to_csv(folder / "usage_events.csv", index=False)
    settings = Settings(models={"churn": "inactivity", "inactivity_days": 30})
    dataset = handoff.open_data(folder, "2024-03-31", tmp_path / "out", settings=settings)
    assert (dataset.churn, dataset.inactivity_days) == ("inactivity", 30)
    features = handoff.features_at(dataset, "2024-03-31", tmp_path / "out")
    assert features["customer_id"].tolist() == ["B", "D"]
    # read back from the kept copy, the rule holds too
    again = handoff.open_data(folder, "2024-03-31", tmp_path / "out", settings=settings)
    assert handoff.features_at(again, "2024-03-31", tmp_path / "out")["customer_id"].tolist() == ["B", "D"]


def test_bgnbd_ranks_a_frequent_recent_buyer_above_a_lapsing_one():
    from churnlab.features.btyd import btyd_scores, rfm_summary

    pytest.importorskip("lifetimes")
    # 60 customers buying at random, about every 20 days, for a random part of the half year;
    # "slow" bought twice in January then stopped, "fast" every 10 days until the end of June
    import numpy as np

    rng = np.random.default_rng(3)
    rows = []
    for k in range(60):
        day, stop = 0.0, rng.uniform(30, 180)
        while day < stop:
            rows.append((f"c{k:02d}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(day)), 10.0 + k))
            day += rng.exponential(20) + 1
    rows += [("slow", pd.Timestamp("2024-01-02"), 12.0), ("slow", pd.Timestamp("2024-01-20"), 12.0)]
    rows += [("fast", pd.Timestamp("2024-01-05") + pd.Timedelta(days=10 * i), 12.0) for i in range(18)]
    events = pd.DataFrame(rows, columns=["customer_id", "ts", "amount"])
    summary = rfm_summary(events, "2024-06-30", "amount")
    assert summary.loc["slow", ["frequency", "recency", "T"]].tolist() == [1.0, 18.0, 180.0]
    scores = btyd_scores(summary, horizon_days=90)
    assert scores.loc["slow", "btyd_p_alive"] < scores.loc["fast", "btyd_p_alive"]
    assert scores.loc["slow", "btyd_expected_purchases"] < scores.loc["fast", "btyd_expected_purchases"]
    assert scores.loc["fast", "btyd_expected_value"] > scores.loc["slow", "btyd_expected_value"] > 0


def test_the_rolling_backtest_keeps_a_purchase_logs_label():
    """A purchase log's label is "no purchase within the horizon", not a churn date: the
    backtest's view of an earlier date keeps it instead of re-deriving it from the durations."""
    from churnlab.models.backtest import as_known_on

    train = pd.DataFrame({"snapshot": [pd.Timestamp("2024-01-31")] * 2, "customer_id": ["A", "B"],
                          "duration_days": [200, 200], "event": [0, 0],
                          "churned": pd.array([1, 0], dtype="Int64")})
    known = as_known_on(train, "2024-05-31", horizon_days=90)
    assert known["churned"].tolist() == [1, 0]


# -- a whole run on a small purchase log ------------------------------------------------------

def _small_log(path) -> None:
    """400 customers buying at random (seeded) through 2023 and early 2024, plus two planted ones:
    "back" lapsed in 2023 and bought again on 2024-03-20; "gone" last bought 2023-12-01 and lapses
    on 2024-03-30 (120-day window), the day before the as-of date."""
    import numpy as np

    rng = np.random.default_rng(11)
    rows = []
    for k in range(400):
        day, stop, gap = int(rng.integers(0, 90)), rng.uniform(30, 540), rng.uniform(10, 60)
        while day < min(stop, 545):
            rows.append((f"{k:05d}", pd.Timestamp("2023-01-01") + pd.Timedelta(days=day),
                         int(rng.integers(1, 4)), round(float(rng.uniform(5, 50)), 2)))
            day += int(rng.exponential(gap)) + 1
    for cid, days in (("back", ["2023-01-05", "2023-02-01", "2023-06-20", "2024-03-20"]),
                      ("gone", ["2023-01-10", "2023-06-01", "2023-12-01"])):
        rows += [(cid, pd.Timestamp(d), 1, 20.0) for d in days]
    lines = ["customer_id  date  number_of_cds  dollar_value"]
    lines += [f" {c} {d:%Y%m%d}  {n}   {v:.2f}" for c, d, n, v in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    import subprocess
    import sys

    pytest.importorskip("lifetimes")
    work = tmp_path_factory.mktemp("purchases")
    _small_log(work / "purchases.txt")
    config = work / "settings.yaml"
    config.write_text("mapping: cdnow\nmodels:\n  churn: inactivity\n  inactivity_days: 120\n  snapshots: 6\n"
                      "  survival: [cox]\n  classifiers: [logistic]\nzones:\n  risk_threshold: top 20%\n"
                      "  action_cost: 2\n")
    proc = subprocess.run([sys.executable, "-m", "churnlab", "run", "--data", str(work / "purchases.txt"),
                           "--config", str(config), "--as-of", "2024-03-31", "--out", str(work / "reports")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return work


def test_a_run_scores_and_lists_only_active_customers_and_wins_back_the_lapsed(small_run):
    log = pd.read_csv(small_run / "purchases.txt", sep=r"\s+", dtype={"customer_id": str, "date": str})
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    log = log[log["date"] <= "2024-03-31"]           # the run reads nothing after its as-of date
    last = log.groupby("customer_id")["date"].max()
    idle = (pd.Timestamp("2024-03-31") - last).dt.days
    active, lapsed = set(idle[idle < 120].index), set(idle[idle >= 120].index)
    out = small_run / "reports" / "2024-03-31"
    scores = pd.read_csv(out / "scores.csv", dtype={"customer_id": str})
    assert set(scores["customer_id"]) == active and "back" in active
    for name in ("reactive", "proactive", "exit_interviews", "backlog"):
        path = out / "targets" / f"{name}.csv"
        if path.is_file():
            assert not set(pd.read_csv(path, dtype={"customer_id": str})["customer_id"]) & lapsed, name
    win_back = pd.read_csv(out / "targets" / "win_back.csv", dtype={"customer_id": str})
    # lapsed within the week before the as-of date: last purchase 120 to 126 days before it
    assert set(win_back["customer_id"]) == set(idle[(idle >= 120) & (idle < 127)].index)
    assert "gone" in set(win_back["customer_id"])
    assert scores["value"].gt(0).all()   # BG/NBD + Gamma-Gamma expected spend


# -- the purchase history as features, in the catalogue and in the reasons -----------------------

def test_the_purchase_history_reads_the_usual_gap_and_how_overdue_the_next_purchase_is():
    from churnlab.features.btyd import purchase_history, rfm_summary

    # "x" buys 01-01 (10), 01-11 (20), 01-21 (30): two repeats, every 10 days, last one 30 days
    # before the as-of date 02-20, i.e. 3 usual gaps; "y" bought once (no gap seen yet)
    events = pd.DataFrame({"customer_id": ["x", "x", "x", "y"],
                           "ts": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21", "2024-02-01"]),
                           "amount": [10.0, 20.0, 30.0, 8.0]})
    history = purchase_history(rfm_summary(events, "2024-02-20", "amount"))
    x, y = history.loc["x"], history.loc["y"]
    assert (x["repeat_purchases"], x["purchase_gap_days"], x["gap_overdue_ratio"]) == (2.0, 10.0, 3.0)
    assert x["spend_per_purchase"] == pytest.approx(20.0)
    assert y["repeat_purchases"] == 0.0 and pd.isna(y["purchase_gap_days"]) and pd.isna(y["gap_overdue_ratio"])
    assert y["spend_per_purchase"] == pytest.approx(8.0)


def test_the_buy_till_you_die_features_are_the_catalogues_purchase_features_in_order():
    from churnlab.features.btyd import BTYD_FEATURES
    from churnlab.features.catalogue import PURCHASE_FEATURES
    from churnlab.models.reasons import MAX_REASON_CHARS

    assert BTYD_FEATURES == [f.name for f in PURCHASE_FEATURES]
    for f in PURCHASE_FEATURES:
        for v in (0.0, 0.35, 1.0, 3.14, 258.0, 99_999.0):
            assert len(f.phrase(v)) < MAX_REASON_CHARS, (f.name, f.phrase(v))


def test_a_customer_three_gaps_overdue_reads_so_in_its_reasons():
    from churnlab.models.reasons import explain, phrase

    assert phrase("gap_overdue_ratio", 3.0) == "no purchase for 3.0x their usual gap"
    assert phrase("btyd_p_alive", 0.35) == "P(alive) 0.35 by BG/NBD"
    features = pd.DataFrame({"customer_id": ["late", "usual"], "gap_overdue_ratio": [3.0, 0.5],
                             "btyd_p_alive": [0.35, 0.9]})
    # the log-odds terms a model gave: overdue and unlikely alive raise the first one's risk
    contributions = pd.DataFrame({"gap_overdue_ratio": [0.8, -0.3], "btyd_p_alive": [0.4, -0.2]})
    words = explain(contributions, features, typical=pd.Series({"gap_overdue_ratio": 1.0, "btyd_p_alive": 0.7}))
    assert words.tolist() == ["no purchase for 3.0x their usual gap; P(alive) 0.35 by BG/NBD",
                              "no risk driver stands out"]


# -- value over the value settings' horizon ------------------------------------------------------

def _spend_log():
    import numpy as np

    rng = np.random.default_rng(5)
    rows = []
    for k in range(80):
        day = float(rng.uniform(0, 30))
        while day < 170:
            rows.append((f"c{k:02d}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(day)),
                         float(rng.gamma(4, 5))))
            day += rng.exponential(25) + 1
    return pd.DataFrame(rows, columns=["customer_id", "ts", "amount"]).assign(event_type="purchase")


def test_the_expected_spend_follows_the_value_horizon_and_discount_rate():
    from churnlab.data.loading import dataset_from_frames
    from churnlab.data.mapping import customers_from_events
    from churnlab.features.engine import build_features

    pytest.importorskip("lifetimes")
    events = _spend_log()
    data = dataset_from_frames({"customers": customers_from_events(events), "usage_events": events},
                               as_of="2024-06-30")

    def spend(**btyd):
        from dataclasses import replace

        frame = build_features(replace(data, btyd=btyd), "2024-06-30", "inactivity", 120)
        return frame.set_index("customer_id")["btyd_expected_value"]

    year, two_years = spend(value_months=12, annual_discount_rate=0.1), spend(value_months=24, annual_discount_rate=0.1)
    assert (two_years > year).all()
    assert (spend(value_months=24, annual_discount_rate=0.5) < two_years).all()   # discounted harder
    assert spend().equals(year)                                                    # the defaults: 12 months, 10%


def test_the_value_note_names_the_settings_horizon():
    from churnlab.decide.value import customer_value, value_note
    from churnlab.settings import Settings

    class NoCurve:  # a purchase log's value does not read the survival curve
        def survival_function(self, frame, times):
            raise AssertionError("not used")

    features = pd.DataFrame({"customer_id": ["a", "b"], "btyd_expected_value": [100.0, 40.0]})
    settings = Settings(value={"horizon_months": 36, "annual_discount_rate": 0.05, "margin_rate": 0.5})
    value = customer_value(features[["customer_id"]], features, NoCurve(), settings=settings)
    assert value["expected_margin"].tolist() == [50.0, 20.0]
    assert value["arr"].tolist() == pytest.approx([100.0 / 3, 40.0 / 3])       # per year of the 36 months
    assert "next 36 months, discounted 5% a year" in value_note(value)


# -- the win-back list in the workbook ------------------------------------------------------------

def test_the_win_back_list_is_a_sheet_of_the_workbook(tmp_path):
    from openpyxl import load_workbook

    from churnlab.report.outputs import write_targets, write_win_back

    lists = {"reactive": pd.DataFrame({"customer_id": ["00007"], "name": ["Ann"], "due_date": ["2024-04-07"]})}
    write_targets(tmp_path, lists, "2024-03-31")
    lapsed = pd.DataFrame({"customer_id": ["00003"], "lapsed_on": [pd.Timestamp("2024-03-28")]})
    customers = pd.DataFrame({"customer_id": ["00003"], "name": ["Bo"]})
    write_win_back(tmp_path, lapsed, customers, "2024-03-31")
    book = load_workbook(tmp_path / "targets" / "targets.xlsx")
    assert book.sheetnames == ["About", "Reactive", "Win-back"]
    sheet = book["Win-back"]
    head = [c.value for c in sheet[1]]
    row = dict(zip(head, [c.value for c in sheet[2]]))
    assert row["Customer ID"] == "00003" and row["Customer"] == "Bo"      # identifiers stay text
    assert row["Lapsed on"].date() == pd.Timestamp("2024-03-28").date()
    assert book["Reactive"]["A2"].value == "00007"                        # the other lists as they were


# -- repeated rows of a purchase log --------------------------------------------------------------

REPEATS = """customer_id  date  number_of_cds  dollar_value
 00001 19970101  1   11.77
 00001 19970101  1   11.77
 00001 19970101  1   11.77
 00002 19970112  5   77.00
"""


@pytest.mark.parametrize("repeated_rows, kept, quarantined", [("keep", 4, 0), ("quarantine", 2, 2)])
def test_equal_purchases_on_one_day_are_kept_when_the_mapping_says_so(tmp_path, repeated_rows, kept, quarantined):
    shipped = load_mapping("cdnow").model_dump()
    shipped["tables"]["usage_events"]["repeated_rows"] = repeated_rows
    mapping = MappingSettings.model_validate(shipped)
    data = load_data(_log(tmp_path, text=REPEATS), as_of="1997-12-31", mapping=mapping)
    events = data["usage_events"]
    assert len(events) == kept
    assert (data.quarantine["rule"] == "duplicate_row").sum() == quarantined
    if repeated_rows == "keep":
        assert events.loc[events["customer_id"] == "00001", "repeat"].tolist() == [0, 1, 2]
        assert events["amount"].sum() == pytest.approx(3 * 11.77 + 77)


def test_the_shipped_cdnow_mapping_keeps_equal_purchases():
    assert load_mapping("cdnow").tables["usage_events"].repeated_rows == "keep"


# -- a log without a header row --------------------------------------------------------------------

def _headerless_mapping(names):
    shipped = load_mapping("cdnow").model_dump(exclude_none=True)
    shipped["tables"]["usage_events"]["column_names"] = names
    return MappingSettings.model_validate(shipped)


def test_a_log_without_a_header_row_reads_with_the_mappings_column_names(tmp_path):
    body = LOG.split("\n", 1)[1]                          # the original CDNOW_master.txt has no header
    names = ["customer_id", "date", "number_of_cds", "dollar_value"]
    data = load_data(_log(tmp_path, text=body), as_of="1997-12-31", mapping=_headerless_mapping(names))
    events = data["usage_events"]
    assert len(events) == 6                               # the first line is a purchase, not a header
    assert events["customer_id"].iloc[0] == "00001" and events["amount"].iloc[0] == pytest.approx(11.77)


def test_column_names_fewer_than_the_columns_say_so(tmp_path):
    body = LOG.split("\n", 1)[1]
    with pytest.raises(MappingError, match="more columns than the 3 of tables.usage_events.column_names"):
        load_data(_log(tmp_path, text=body), as_of="1997-12-31",
                  mapping=_headerless_mapping(["customer_id", "date", "dollar_value"]))


# -- customer columns from the first event -----------------------------------------------------------

def test_customer_columns_come_from_each_customers_first_event():
    events = pd.DataFrame({"customer_id": ["b", "a", "b", "a"],
                           "ts": pd.to_datetime(["2024-03-05", "2024-01-02", "2024-02-01", "2024-05-01"]),
                           "store": ["north", "south", "west", "east"], "first_cds": ["3", "1", "2", "9"]})
    customers = customers_from_events(events, ["store", "first_cds"]).set_index("customer_id")
    # a's first purchase is 01-02 in the south, b's is 02-01 in the west (not its first row)
    assert customers["store"].to_dict() == {"a": "south", "b": "west"}
    assert customers["first_cds"].tolist() == [1.0, 2.0]              # numbers stay numbers


def test_a_mapping_copies_first_event_columns_to_the_customers(tmp_path):
    text = "customer_id date amount store\n1 19970105 10 north\n1 19970101 12 south\n2 19970110 5 west\n"
    mapping = MappingSettings.model_validate({"tables": {
        "usage_events": {"separator": "whitespace", "columns": {"customer_id": "customer_id", "ts": "date"},
                         "date_formats": {"date": "%Y%m%d"}, "numeric": ["amount"],
                         "constants": {"event_type": "purchase"}},
        "customers": {"from_events": "usage_events", "from_first_event": ["store"]}}})
    data = load_data(_log(tmp_path, text=text), as_of="1997-12-31", mapping=mapping)
    assert data["customers"].set_index("customer_id")["store"].to_dict() == {"1": "south", "2": "west"}
    wrong = MappingSettings.model_validate({"tables": {**mapping.model_dump()["tables"],
                                                       "customers": {"from_events": "usage_events",
                                                                     "from_first_event": ["region"]}}})
    with pytest.raises(MappingError, match="from_first_event: usage_events has no column 'region'"):
        load_data(_log(tmp_path, text=text), as_of="1997-12-31", mapping=wrong)
