"""Stage 5, report: one scheduled run and the files it leaves behind.

Holds the run itself (``run``: validate, execute the notebooks, render them, publish the dated
folder), executing one notebook with its heartbeat (``execute``), one run per reports folder and
what a killed run leaves (``guard``: the lock, signals, ``.failed/``), the keyed hand-off of results between notebooks (``handoff``), the published files
(``outputs``: scores.csv, target lists, model bundle, data_quality.csv), the targets workbook
(``workbook``: targets.xlsx and the meaning of every target-list column), contact memory
(``history``: earlier runs' lists, the backlog, interventions, who churned since), the HTML index
(``index``: ``write_index``) and the figures it reads from this run and the earlier ones
(``overview``: trend, owners' lists, rescues, Red Zone moves, model health), the manifest
(``manifest``: ``write_manifest``) and the HTML
templates of rendered notebooks (``templates/``).

May import: every stage before it and ``churnlab.settings``, ``churnlab.plotting``.
"""
