"""What every plot of churnlab shares: the Axes to draw on.

Each ``plot_*`` function of the package draws on the ``ax`` it is given, or on a new figure of
its own size when ``ax`` is None, and returns that Axes with a title and labelled axes (a test
checks every one). Any stage may import this module; it imports nothing of churnlab.
"""
from __future__ import annotations

__all__ = ["axes"]


def axes(ax=None, size: tuple[float, float] = (6.0, 4.5)):
    """``ax`` itself, or the Axes of a new figure ``size`` inches wide and high."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax
