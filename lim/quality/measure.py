"""The contract's expectations measured in DuckDB, rendered by Great Expectations (issue #19 item 5).

GX on pandas holds a source's staged rows as a pandas frame and evaluates each expectation in
Python: at province size the register's 15 M rows take ~6 GB and most of `quality_results`'
188 s. Every expectation of lim/quality/expectations.py is a count over the rows — nulls, values
outside a set, not matching a pattern, outside a range, duplicated — so DuckDB counts them here
in one scan of the staged Parquet (plus one GROUP BY per unique key), and GX still does the rest:

* the *shape* of the validation — the columns and pandas dtypes the frame would have, hence the
  column-set and type expectations, the suite, the batch, every result's meta — comes from GX
  validating a 0-row frame of those exact dtypes (expectations.SuiteRun._measure);
* each row-level result is then made by the expectation's own GX code (`Expectation._validate`)
  from the counts measured here, so success, `mostly`, percentages and the result's fields are
  GX's own arithmetic; the patched validation replaces the 0-row one in GX's results store and
  the Data Docs are built from it as before.

The results and the Data Docs are those GX on pandas gives for the same file (tested on every
source of the sample months and on files with every kind of failure:
tests/pipeline/test_quality_measure.py). Where a frame would hold a column of pandas dtype
`object` (GX then checks the type value by value) `measure` returns None and the caller
validates on pandas. LIM_GX_ENGINE=pandas keeps GX's own evaluation for every source.

Pandas semantics kept: NaN is missing (a float NaN counts as null here), a map expectation
counts only non-missing values, `ExpectColumnValuesToBeUnique` counts every row of a duplicated
value, `ExpectCompoundColumnsToBeUnique` ignores rows whose key columns are all missing and
treats missing as equal, patterns are searched (RE2 in both).
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path

from lim.core.contracts import OOP_TERMS, Contract
from lim.warehouse.warehouse import sql_literal

ROW_COUNT = "table.row_count"
NONNULL_UNEXPECTED = "column_values.nonnull.unexpected_count"
# the map metric of each row-level expectation (GX's own names)
MAP_METRIC = {"ExpectColumnValuesToNotBeNull": "column_values.nonnull",
              "ExpectColumnValuesToBeInSet": "column_values.in_set",
              "ExpectColumnValuesToMatchRegex": "column_values.match_regex",
              "ExpectColumnValuesToBeBetween": "column_values.between",
              "ExpectColumnValuesToBeUnique": "column_values.unique",
              "ExpectCompoundColumnsToBeUnique": "compound_columns.unique"}
# what GX takes from the frame's shape alone (the 0-row validation's result is the result)
SHAPE_ONLY = frozenset({"ExpectTableColumnsToMatchSet", "ExpectColumnValuesToBeOfType"})


@dataclass(frozen=True)
class Measured:
    rows: int
    nonnull: dict[str, int]     # column -> its values that are not missing
    metrics: dict[tuple, dict]  # spec_key(spec) -> the metrics GX's _validate reads


def spec_key(spec) -> tuple:
    return spec.kind, json.dumps(spec.kwargs, sort_keys=True, default=str)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_exprs(con, contract: Contract, path: Path, columns: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Each validated column as pandas would see it: floats' NaN as NULL, and the out-of-pocket
    residual (lim/quality/expectations.frame_for_validation) computed the same way; and the file's
    column types."""
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({sql_literal(str(path))}))").fetchall())
    out = {}
    for c in columns:
        if c not in types:
            continue
        t = types[c].upper()
        out[c] = f"CASE WHEN isnan({_q(c)}) THEN NULL ELSE {_q(c)} END" if t in ("DOUBLE", "FLOAT", "REAL") else _q(c)
    if "_oop_residual" in columns and all(t in out for t in ("out_of_pocket", *OOP_TERMS)):
        total, fund, crit, assist = (out[t] for t in OOP_TERMS)
        out["_oop_residual"] = f"(({out['out_of_pocket']}) - ((({total}) - ({fund})) - ({crit}) - ({assist})))"
    return out, types


def _value(v) -> str:
    if isinstance(v, _dt.datetime):
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    if isinstance(v, _dt.date):
        return f"TIMESTAMP '{v.isoformat()} 00:00:00'"
    if isinstance(v, bool):
        raise TypeError("a boolean bound")
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(int(v))
    return sql_literal(str(v))


def _unexpected_sql(kind: str, kwargs: dict, col: str, is_date: bool) -> str:
    """The condition of a non-missing value that the expectation does not expect."""
    if kind == "ExpectColumnValuesToBeInSet":
        return f"{col} NOT IN ({', '.join(sql_literal(str(v)) for v in kwargs['value_set'])})"
    if kind == "ExpectColumnValuesToMatchRegex":
        return f"NOT regexp_matches({col}, {sql_literal(kwargs['regex'])})"
    if kind == "ExpectColumnValuesToBeBetween":
        x = f"CAST({col} AS TIMESTAMP)" if is_date else col
        parts = []
        if kwargs.get("min_value") is not None:
            parts.append(f"{x} {'>' if kwargs.get('strict_min') else '>='} {_value(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            parts.append(f"{x} {'<' if kwargs.get('strict_max') else '<='} {_value(kwargs['max_value'])}")
        return f"NOT ({' AND '.join(parts) or 'true'})"
    raise ValueError(kind)


def measure(con, contract: Contract, path: Path | None, specs, columns: list[str]) -> Measured | None:
    """Count, in one scan of the staged file, what each of `specs` needs (GX's metric names, per
    spec_key). `columns`: the columns the frame would have. None: an expectation or a column the
    counts cannot stand for (the caller validates on pandas)."""
    if path is None or not Path(path).exists():
        return None
    exprs, types = column_exprs(con, contract, Path(path), columns)
    if set(exprs) != set(columns):
        return None
    src = f"(SELECT {', '.join(f'{e} AS {_q(c)}' for c, e in exprs.items())} FROM read_parquet({sql_literal(str(path))}))"
    aggs = ["count(*)"] + [f"count({_q(c)})" for c in columns]
    where: dict[int, int] = {}  # spec index -> its aggregate's position
    for i, s in enumerate(specs):
        if s.kind in ("ExpectColumnValuesToBeInSet", "ExpectColumnValuesToMatchRegex", "ExpectColumnValuesToBeBetween"):
            c = s.kwargs["column"]
            cond = _unexpected_sql(s.kind, s.kwargs, _q(c), types.get(c, "").upper().startswith(("DATE", "TIMESTAMP")))
            where[i] = len(aggs)
            aggs.append(f"count(*) FILTER (WHERE {_q(c)} IS NOT NULL AND {cond})")
    row = con.execute(f"SELECT {', '.join(aggs)} FROM {src}").fetchone()
    n = int(row[0])
    nonnull = {c: int(row[1 + k]) for k, c in enumerate(columns)}
    metrics: dict[tuple, dict] = {}
    for i, s in enumerate(specs):
        if s.kind in SHAPE_ONLY:
            continue
        mm = MAP_METRIC.get(s.kind)
        if mm is None:
            return None  # an expectation not measured here
        m = {ROW_COUNT: n, f"{mm}.unexpected_values": []}
        if s.kind == "ExpectCompoundColumnsToBeUnique":
            key = ", ".join(_q(c) for c in s.kwargs["column_list"])
            some = " OR ".join(f"{_q(c)} IS NOT NULL" for c in s.kwargs["column_list"])
            filtered, dup = con.execute(
                f"SELECT coalesce(sum(k), 0), coalesce(sum(k) FILTER (WHERE k > 1), 0) "
                f"FROM (SELECT count(*) AS k FROM {src} WHERE {some} GROUP BY {key})").fetchone()
            m[f"{mm}.filtered_row_count"] = int(filtered)
            m[f"{mm}.unexpected_count"] = int(dup)
        else:
            c = s.kwargs["column"]
            m[NONNULL_UNEXPECTED] = n - nonnull[c]
            if s.kind == "ExpectColumnValuesToNotBeNull":
                m[f"{mm}.unexpected_count"] = n - nonnull[c]
            elif s.kind == "ExpectColumnValuesToBeUnique":
                dup = con.execute(f"SELECT coalesce(sum(k), 0) FROM (SELECT count(*) AS k FROM {src} "
                                  f"WHERE {_q(c)} IS NOT NULL GROUP BY {_q(c)} HAVING count(*) > 1)").fetchone()[0]
                m[f"{mm}.unexpected_count"] = int(dup)
            else:
                m[f"{mm}.unexpected_count"] = int(row[where[i]])
        metrics[spec_key(s)] = m
    return Measured(n, nonnull, metrics)
