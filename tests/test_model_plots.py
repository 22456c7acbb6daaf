"""Every model plot has a title, labelled axes and the data it claims to show."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from churnlab.models import plots as model_plots
from churnlab.models.metrics import profit_curve

CURVES = {"model": (np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.8, 0.3]))}


@pytest.mark.parametrize("plot", [model_plots.plot_roc, model_plots.plot_lift, model_plots.plot_calibration])
def test_curve_plots_are_titled_labelled_and_have_a_legend(plot):
    ax = plot(CURVES)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_legend() is not None


def test_gains_of_a_perfect_ranking_reach_every_churner_at_half():
    ax = model_plots.plot_lift(CURVES)
    x, y = ax.lines[0].get_data()
    assert list(x) == [0, 25, 50, 75, 100] and list(y) == [0, 50, 100, 100, 100]


def test_survival_plot_draws_one_line_per_group_in_percent():
    frame = pd.DataFrame({"pro": [1.0, 0.9], "basic": [1.0, 0.7]}, index=[0, 30])
    ax = model_plots.plot_survival_by_group(frame)
    assert [line.get_label() for line in ax.lines] == ["pro", "basic"]
    assert list(ax.lines[1].get_ydata()) == [100.0, 70.0]
    assert ax.get_xlabel() == "days after the as-of date"


def test_profit_curve_plot_is_labelled():
    ax = model_plots.plot_profit_curve(profit_curve([1, 0], [0.9, 0.1]))
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
