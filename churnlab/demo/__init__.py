"""Beside the stages, demo: a simulated customer base with its ground truth.

Holds the simulated world and its month-by-month simulation (``world``) and the as-of oracle
that knows the truth (``expected_hazard``), used by tests and benchmarks to judge the models.

May import: ``churnlab.data`` (the contract the demo writes) and modules of this package; no
stage imports the demo.
"""
