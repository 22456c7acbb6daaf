"""Stage 1, data: the input contract, reading a source and validating it.

Holds the contract as code (``contract``), validation and its messages, reading a source
(``loading``: folders, files, DuckDB, database URLs through ``sql``), mappings of a source's own
tables onto the contract (``mapping``), chunk-by-chunk validation of tables too large for memory
(``chunked``) and a validated dataset kept on disk (``saved``).

May import: ``churnlab.settings`` and modules of this package. Nothing of a later stage.
"""
