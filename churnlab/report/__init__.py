"""Stage 5, report: one scheduled run and the files it leaves behind.

Holds the run itself (``run``: validate, execute the notebooks, publish the dated folder), the
keyed hand-off of results between notebooks (``handoff``), the published files (``outputs``:
scores.csv, target lists, model bundle), the HTML index (``index``), the manifest
(``manifest``) and the HTML templates of rendered notebooks (``templates/``).

May import: every stage before it and ``churnlab.settings``, ``churnlab.plotting``.
"""
