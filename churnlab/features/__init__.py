"""Stage 2, features: point-in-time features of each customer at a date, and training sets.

Holds the feature catalogue (``catalogue``: every feature's name, group, window, meaning and the
phrase reasons use), the DuckDB engine that computes them (``engine``, ``usage_windows``),
comment sentiment (``sentiment``), what the features look like (``profile``), drift against an
earlier date (``drift``) and the tables of the data-health notebook (``data_health``).

May import: ``churnlab.data``, ``churnlab.settings``, ``churnlab.plotting`` and modules of this
package.
"""
