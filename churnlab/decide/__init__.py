"""Stage 4, decide: what the scores mean for the business, and who to contact.

Holds customer value (``value``), the health score (``health``), P(save) from the history of
retention actions (``saveability``), the Red, Dead, watch and healthy zones (``zones``), the rules
engine (``rules``) and how each rule did in the past (``rule_evidence``), segments
(``segments``), save rates and uplift by action (``uplift``), the next best action
(``next_action``), campaign target lists with their control groups (``campaigns``), what each
campaign did against its control group (``campaign_effects``), why customers left (``exits``: churn_reason answers by period and segment), what
changed since the previous run (``changes``) and the tables and plots of
the value, zones and campaigns notebooks (``plots``).

May import: ``churnlab.data``, ``churnlab.features``, ``churnlab.models``, ``churnlab.settings``,
``churnlab.plotting`` and modules of this package.
"""
