"""Drift against the previous run: the population stability index on hand-made samples."""
from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.features.drift import feature_drift, psi, score_shift


def test_psi_of_identical_samples_is_zero():
    x = np.arange(100.0)
    assert psi(x, x) == 0.0


def test_psi_by_hand_on_two_bins():
    # bins at the median of `before` (1.5): before 50% / 50%, now 80% / 20%
    before, now = [1, 1, 2, 2], [1] * 8 + [2] * 2
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert abs(psi(before, now, bins=2) - expected) < 1e-12


def test_feature_drift_ranks_the_shifted_feature_first_and_names_its_level():
    rng = np.random.default_rng(0)
    before = pd.DataFrame({"arr": rng.normal(100, 10, 2000), "last_nps": rng.normal(7, 1, 2000)})
    now = pd.DataFrame({"arr": rng.normal(100, 10, 2000), "last_nps": rng.normal(5, 1, 2000)})
    out = feature_drift(before, now)
    assert out["feature"].tolist() == ["last_nps", "arr"]
    assert out["level"].tolist() == ["major", "stable"]


def test_score_shift_is_empty_on_a_first_run_and_compares_quantiles_after():
    now = pd.DataFrame({"churn_probability": [0.1, 0.2, 0.3]})
    assert score_shift(None, now).empty
    table = score_shift(now, now).set_index("statistic")
    assert table.loc["p50", "previous"] == table.loc["p50", "now"] == 0.2
    assert table.loc["psi", "now"] == 0.0
