"""Stage 1, data: the input contract, reading a source and validating it.

Modules, from the contract outwards:

* ``contract``: the contract as code (``CONTRACT``, ``TABLES``, the rule lists) and what breaking
  it gives (``Violation``, ``DataContractError``, ``ValidationResult``, the quarantine's columns);
* ``validation``: converting values to the contract's types, the pandera schemas and running them
  (``validate_tables``, and its steps ``check_table``, ``convert_table``, ``quarantine_rows``);
* ``messages``: how each broken rule reads, in a violation and in a quarantined row's reason;
* ``loading``: reading a source (folders, files, DuckDB, database URLs through ``sql``) into a
  validated, point-in-time ``Dataset`` (``load_data``);
* ``mapping``: a source's own tables and columns mapped onto the contract;
* ``expressions``: the expression language of a mapping's ``compute`` and of the rules
  (``churnlab.decide.rules``), parsed with ``ast`` against a whitelist and evaluated vectorised;
* ``column_types``: numbers read from text (decimal commas, thousands groups), which type each
  extra customers column gets and why (``column_types``, for notebook 01);
* ``sql``: database URLs;
* ``chunked``: tables too large for memory validated chunk by chunk into Parquet, and
  :func:`open_source`, the one way a source is opened (in memory, or in chunks into a folder);
* ``saved``: a validated dataset kept on disk and read back lazily;
* ``memory``: giving freed memory back to the system.

May import: ``churnlab.settings`` and modules of this package. Nothing of a later stage.
"""
from churnlab.data.chunked import open_source

__all__ = ["open_source"]
