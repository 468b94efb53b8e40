"""Bounds on reading one landed file: every limit of the reading layer, in one place.

A department's file is read by code that trusts it as little as possible (extracts.md "Bad
input"): a file over one of these bounds is refused as a whole (``load_log.status``
``unreadable``, with a one-line message naming the file, the bound and its variable), except a
too long cell, which quarantines its row. The month goes on with the other sources.

Each bound has a default and can be changed by an environment variable of the pipeline process,
both declared in lim/core/settings.py (read when a file is read, not at import: :func:`current`).
``0`` turns a bound off.

=================================  =========  =====================================================
variable                           default    bound
=================================  =========  =====================================================
``LIM_READ_MAX_COLUMNS``           500        columns of a file: the header record of a CSV (and
                                              any of its rows), the used columns of an XLSX row
                                              holding a value, the columns of a Parquet file
``LIM_READ_MAX_CELL_CHARS``        10000      characters of one cell. A longer header cell refuses
                                              the file; a longer data cell quarantines its row
                                              (``invalid_value``, the reason names the column and
                                              its length) and is cut to this length (with a note)
                                              in the raw row kept for the row (``_raw``)
``LIM_READ_MAX_XLSX_MB``           4096       uncompressed bytes (MiB) of all parts of an XLSX,
                                              as its zip directory declares them (zip bombs)
``LIM_READ_MAX_PARQUET_FOOTER_MB`` 64         the Parquet footer (schema and row-group metadata)
``LIM_READ_MEMORY_MB``             6144       address space (MiB) the worker process reading one
                                              file may add to what it has when it starts
                                              (``RLIMIT_AS``): a file that needs more is refused
``LIM_READ_TIMEOUT_S``             3600       seconds the worker may take for one file
``LIM_READ_ISOLATE``               1          ``0``: read in the pipeline process itself (no worker
                                              process, so no memory or time bound)
=================================  =========  =====================================================

Parquet is only accepted flat: every column of a scalar type (text, numbers, booleans, dates,
times, timestamps, decimals, binary; dictionary-encoded ones of these); a struct, list, map or
union column, at any depth, refuses the file before any data is read.

XLSX sheets are read row by row from their XML without padding rows to the sheet's used range: an
empty cell formatted far to the right (column XFD) costs nothing; a *value* beyond
``LIM_READ_MAX_COLUMNS`` refuses the file.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, fields

from lim.core import settings
from lim.core.settings import Settings

#: (environment variable, default) of each bound, by attribute of :class:`Limits` (the fields
#: ``read_<bound>`` of lim/core/settings.py).
DEFAULTS: dict[str, tuple[str, int]] = {
    f.name[len("read_"):]: (f.metadata["var"], f.default) for f in fields(Settings) if f.metadata["kind"] == "limit"}

#: Python's csv module refuses a field longer than 131072 characters by default (``field larger
#: than field limit``). The project's CSVs may hold a long field (a quarantined raw row of many
#: columns), and a landed CSV's long cell is a row problem, not a parser failure: every reader and
#: writer of CSV in the project raises the limit to this (:func:`raise_csv_field_limit`).
CSV_FIELD_LIMIT = (1 << 31) - 1


@dataclass(frozen=True)
class Limits:
    max_columns: int
    max_cell_chars: int
    max_xlsx_mb: int
    max_parquet_footer_mb: int
    memory_mb: int
    timeout_s: int
    isolate: int

    def var(self, name: str) -> str:
        """The environment variable of a bound (for messages)."""
        return DEFAULTS[name][0]

    def env(self) -> dict[str, str]:
        """The bounds as environment variables (handed to a worker process)."""
        return {DEFAULTS[k][0]: str(getattr(self, k)) for k in DEFAULTS}


def current() -> Limits:
    """The bounds in force now (environment variables over the defaults; SettingsError, a
    ValueError, naming a variable that is not a non-negative integer)."""
    now = settings.current()
    return Limits(**{k: getattr(now, f"read_{k}") for k in DEFAULTS})


def over(value: int, bound: int) -> bool:
    """Whether ``value`` exceeds ``bound`` (a bound of 0 is off)."""
    return bound > 0 and value > bound


def raise_csv_field_limit() -> None:
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
