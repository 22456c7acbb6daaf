"""Stage 4, decide: what the scores mean for the business, and who to contact.

Holds customer value (``value``), the health score (``health``), P(save) from the history of
retention actions (``saveability``), the Red, Dead, watch and healthy zones (``zones``), the rules
engine (``rules``), segments (``segments``), campaign target lists
(``campaigns``), why customers left (``exits``: churn_reason answers by period and segment), what
changed since the previous run (``changes``) and the tables and plots of
the value, zones and campaigns notebooks (``plots``).

May import: ``churnlab.data``, ``churnlab.features``, ``churnlab.models``, ``churnlab.settings``,
``churnlab.plotting`` and modules of this package.
"""
