"""Beside the stages, demo: a simulated customer base with its ground truth.

Three modules, in the order the data flows:

* ``world``: the simulated world, its calendar and parameters and the hazard and usage formulas
  that the simulation and the oracle share;
* ``simulation``: the month-by-month simulation that draws the accounts and writes the contract
  tables and the ground truth (``generate_demo_data``, ``churnlab demo-data``);
* ``oracle``: the as-of oracle that knows the truth (``expected_hazard``) and the one that must
  infer the disengagement from usage (``usage_limited_oracle``), used by tests and benchmarks to
  judge the models.

May import: ``churnlab.settings``, ``churnlab.plotting`` and ``churnlab.data`` (the contract the
demo writes) and modules of this package; no stage imports the demo.
"""
