"""Stage 3, models: survival and classification churn models, backtested and explained.

Holds the design matrix (``design``), the survival models (``survival``), the classifiers
(``classify``), training-set sampling (``sampling``), the figures that judge models
(``metrics``), rolling-origin backtests (``backtest``), risk in words (``reasons``), the saved
model bundle (``bundle``), the one call that fits, chooses and scores (``fit``) and the plots of
the models notebook (``plots``).

May import: ``churnlab.data``, ``churnlab.features``, ``churnlab.settings``, ``churnlab.plotting`` and modules of this
package.
"""
