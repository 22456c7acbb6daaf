"""Feature profile and univariate churn signal, on hand-made frames."""
import pandas as pd
import pytest

from churnlab.features.profile import churn_signal, plot_churn_signal, profile_features


def test_profile_reports_missing_share_and_quartiles():
    features = pd.DataFrame({"customer_id": list("abcd"), "last_nps": [2.0, None, 6.0, 10.0], "plan": list("xxyy")})
    row = profile_features(features).set_index("feature").loc["last_nps"]
    assert row["group"] == "feedback" and row["missing_share"] == 0.25
    assert (row["p25"], row["median"], row["p75"]) == (4.0, 6.0, 8.0)


def test_churn_signal_ranks_the_separating_feature_first_with_its_direction():
    training = pd.DataFrame({
        "snapshot": pd.Timestamp("2024-01-31"), "customer_id": list("abcdef"),
        "events_30d": [0.0, 1.0, 2.0, 8.0, 9.0, 10.0],      # churners use less: perfect separation
        "open_tickets": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0],     # no signal
        "churned": pd.array([1, 1, 1, 0, 0, 0, None][:6], dtype="Int64"),
    })
    signal = churn_signal(training)
    assert signal["feature"].tolist()[0] == "events_30d"
    top = signal.iloc[0]
    assert top["auc"] == 1.0 and top["direction"] == "lower means more churn"
    # a churner beats a stayer in 4 of 9 pairs, ties in 4 (half each), loses 1: (4 + 2) / 9
    assert signal.set_index("feature").loc["open_tickets", "auc"] == pytest.approx(6 / 9)


def test_churn_signal_plot_has_title_and_axis_labels():
    signal = pd.DataFrame({"feature": ["a", "b"], "auc": [0.8, 0.6],
                           "direction": ["higher means more churn", "lower means more churn"]})
    ax = plot_churn_signal(signal, top=2)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_churn_signal_of_a_large_set_reads_a_seeded_sample_of_its_labelled_rows():
    rows = 400
    frame = pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(rows)],
        "churned": [float(i % 4 == 0) if i < 300 else None for i in range(rows)],  # 100 rows unlabelled
        "usage": [float((i * 37) % 101) - 20.0 * (i % 4 == 0) for i in range(rows)],
    })
    whole = churn_signal(frame)
    assert churn_signal(frame, max_rows=300).equals(whole)  # every labelled row fits: no sampling
    sampled = churn_signal(frame, max_rows=120, seed=3)
    assert sampled.equals(churn_signal(frame, max_rows=120, seed=3))
    assert not sampled.equals(churn_signal(frame, max_rows=120, seed=4))
    assert sampled.loc[0, "direction"] == whole.loc[0, "direction"] == "lower means more churn"
