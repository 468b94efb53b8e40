"""Stage one source for one month: find, read, map headers, normalize, quarantine, dedupe.

This is everything extracts.md asks for *before* cross-source reconciliation (ID
linking of ``bad_checksum`` rows and the rural-revitalization 户主 rule happen later).
Pure polars; no Dagster, no DuckDB.

    result = stage_source("hr", "2026-09", landing / "2026-09", landing)

For an accepted file ``rows_in == accepted.height + duplicates + quarantine.height``.
A refused or missing file has empty frames; ``rows_in`` is its data rows when it could be parsed
(missing column, wrong month: all refused with it, extracts.md "0 accepted and 0 quarantined"),
else 0 (missing, unreadable, empty).
"""
from __future__ import annotations

import calendar
import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from lim.ingest.normalize import (
    BAD_CHECKSUM,
    ID_OK_STATUSES,
    INVALID_ID,
    INVALID_VALUE,
    MISSING_REQUIRED,
    NEGATIVE_AMOUNT,
    UPGRADED_15,
    VALID,
    VALUE_DTYPES,
    NormSpec,
    apply_normalizers,
)
from lim.core import limits
from lim.core.hashing import sha256_file
from lim.core.month import Month
from lim.ingest.readers import ROW_COL, SUPPORTED_SUFFIXES, RawTable, ReadError, read_raw
from lim.core.contracts import (
    OOP_TERMS,
    OOP_TOLERANCE,
    Column,
    Contract,
    load_contract,
    normalize_header,
)

DATE_OUTSIDE_MONTH = "date_outside_month"
OOP_MISMATCH = "oop_mismatch"

ACCEPTED = "accepted"
MISSING = "missing"
MISSING_COLUMN = "missing_column"
UNREADABLE = "unreadable"
EMPTY_FILE = "empty_file"
WRONG_MONTH = "wrong_month"

ID_STATUS_COL = "_id_status"
RAW_COL = "_raw"

QUARANTINE_SCHEMA = {
    "row_number": pl.Int64,
    "reason_code": pl.Utf8,
    "reason": pl.Utf8,
    "column": pl.Utf8,
    "raw": pl.Utf8,
    # the row's ID when it is valid as delivered (or upgraded from 15 digits) and its normalized
    # name: a person of the register, roster or rural revitalization whose row is quarantined for
    # another cell is still a known person that a mistyped ID elsewhere can be linked to
    # (extracts.md; sql/reconcile/10_identity.sql)
    "id_number": pl.Utf8,
    "name": pl.Utf8,
}

@dataclass
class StageResult:
    source: str
    month: str
    file: str | None  # path relative to landing_root (e.g. "2026-09/hr.csv"), None if missing
    sha256: str | None  # of the raw file bytes
    status: str  # accepted | missing | missing_column | unreadable | empty_file | wrong_month
    message: str | None  # one Chinese sentence naming the file and the problem
    rows_in: int  # data rows in the file (refused: as parsed, 0 if it could not be)
    duplicates: int  # extra copies removed (they count as accepted)
    accepted: pl.DataFrame
    quarantine: pl.DataFrame
    ignored_files: list[str] = field(default_factory=list)
    blank_rows: int = 0  # rows with every cell empty: not data rows, not counted in rows_in
    encoding: str | None = None  # CSV: utf-8 / utf-8-sig / gb18030
    header_mapping: dict[str, str] = field(default_factory=dict)  # canonical → header as written
    extra_columns: list[str] = field(default_factory=list)  # headers kept only in _raw

    @property
    def refused(self) -> bool:
        return self.status not in (ACCEPTED, MISSING)

    @property
    def rows_accepted(self) -> int:
        """Accepted rows, duplicates included (load_log's rows_accepted)."""
        return self.accepted.height + self.duplicates if self.status == ACCEPTED else 0

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.height if self.status == ACCEPTED else 0


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
def validate_month(month: str) -> tuple[int, int]:
    """``YYYY-MM`` → (year, month); ValueError otherwise."""
    m = Month.parse(month)  # MonthError (a ValueError) otherwise
    return m.year, m.number


def find_source_file(month_dir: Path, source: str) -> tuple[Path | None, list[Path]]:
    """(file to read, other files of the same source) — interpretations.md #2: extension
    case-insensitive; the first of csv, xlsx, parquet is read, the others ignored."""
    month_dir = Path(month_dir)
    if not month_dir.is_dir():
        return None, []
    found: list[tuple[int, str, Path]] = []
    for p in month_dir.iterdir():
        if not p.is_file():
            continue
        stem, suffix = p.stem, p.suffix.lower()
        if stem == source and suffix in SUPPORTED_SUFFIXES:
            found.append((SUPPORTED_SUFFIXES.index(suffix), p.name, p))
    if not found:
        return None, []
    found.sort()
    return found[0][2], [f[2] for f in found[1:]]


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def accepted_schema(contract: Contract) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {c.canonical: VALUE_DTYPES[c.type] for c in contract.columns}
    schema["_row_number"] = pl.Int64
    if contract.id_column:
        schema[ID_STATUS_COL] = pl.Utf8
    schema[RAW_COL] = pl.Utf8
    return schema


def empty_accepted(contract: Contract) -> pl.DataFrame:
    return pl.DataFrame(schema=accepted_schema(contract))


def map_headers(contract: Contract, header: list[str]) -> tuple[dict[str, int], list[int]]:
    """canonical → index of the file column holding it, and the indexes of extra columns.

    When several file columns map to one canonical column (say 身份证号 and 公民身份号码
    both present), the one written exactly as the contract's header wins, else the
    leftmost; the others are extra columns (kept in ``_raw`` only)."""
    hmap = contract.header_map()
    candidates: dict[str, list[int]] = {}
    extras: list[int] = []
    for i, h in enumerate(header):
        canon = hmap.get(normalize_header(h))
        if canon is None:
            extras.append(i)
        else:
            candidates.setdefault(canon, []).append(i)
    mapping: dict[str, int] = {}
    for canon, idxs in candidates.items():
        main = normalize_header(contract.header_of(canon))
        exact = [i for i in idxs if normalize_header(header[i]) == main]
        chosen = exact[0] if exact else idxs[0]
        mapping[canon] = chosen
        extras.extend(i for i in idxs if i != chosen)
    return mapping, sorted(extras)


def header_test(contract: Contract) -> Callable[[list[str]], bool]:
    """Whether a row is the source's header: it holds every required column (its header or an
    alias). The readers take the first such row as the header, below any title (extracts.md)."""
    required = [c.canonical for c in contract.columns if c.required]

    def is_header(cells: list[str]) -> bool:
        mapping, _ = map_headers(contract, cells)
        return all(c in mapping for c in required)

    return is_header


def _fmt2(e: pl.Expr) -> pl.Expr:
    """Float → string with exactly two decimals (``-12.5`` → ``-12.50``). Magnitudes of 1e15 and
    more (an ID number typed into an amount cell) would overflow the cents: shown as polars prints them."""
    small = e.abs() < 1e15
    cents = (pl.when(small).then(e).otherwise(pl.lit(0.0)) * 100).round(0, mode="half_away_from_zero").cast(pl.Int64)
    a = cents.abs()
    exact = pl.concat_str(
        [
            pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            (a // 100).cast(pl.Utf8),
            pl.lit("."),
            (a % 100).cast(pl.Utf8).str.zfill(2),
        ]
    )
    return pl.when(small).then(exact).otherwise(e.cast(pl.Utf8))


_INVALID_TEXT = {
    "enum": "的值不在允许范围内",
    "date": "无法识别为日期",
    "month": "无法识别为年月",
    "amount": "无法识别为金额（或大于 1 万亿元）",
    "integer": "不是非负整数",
    "region_code": "不是 12 位行政区划代码",
}


def _reason_expr(col: Column, code: pl.Expr, raw: pl.Expr, month: str) -> pl.Expr:
    """Chinese sentence naming the column and the bad value, for one column's code."""
    shown = pl.coalesce(raw, pl.lit(""))
    h = col.header
    invalid = _INVALID_TEXT.get(col.type, "的值无效")
    if col.type == "enum" and col.allowed:
        invalid = f"的值不在允许范围（{'/'.join(col.allowed)}）内"
    sep = "" if invalid.startswith("的") else " "
    return (
        pl.when(code == MISSING_REQUIRED)
        .then(pl.lit(f"{h} 为空"))
        .when(code == INVALID_ID)
        .then(pl.concat_str([pl.lit(f"{h} 不是可识别的身份证号码："), shown]))
        .when(code == INVALID_VALUE)
        .then(pl.concat_str([pl.lit(f"{h}{sep}{invalid}："), shown]))
        .when(code == NEGATIVE_AMOUNT)
        .then(pl.concat_str([pl.lit(f"{h} 为负数："), shown]))
        .when(code == DATE_OUTSIDE_MONTH)
        .then(pl.concat_str([pl.lit(f"{h} 不在数据月份 {month} 内："), shown]))
        .otherwise(pl.lit(None, pl.Utf8))
    )


# ---------------------------------------------------------------------------
# main entry
# ---------------------------------------------------------------------------
def stage_source(
    source: str, month: str, month_dir: Path, landing_root: Path | None = None
) -> StageResult:
    """Stage ``<month_dir>/<source>.(csv|xlsx|parquet)`` for data month ``month`` (YYYY-MM)."""
    year, mon = validate_month(month)
    contract = load_contract(source)
    month_dir = Path(month_dir)
    landing_root = Path(landing_root) if landing_root is not None else month_dir.parent

    chosen, others = find_source_file(month_dir, source)
    ignored = [_rel(p, landing_root) for p in others]

    def result(status: str, message: str | None, **kw) -> StageResult:
        base = dict(
            source=source,
            month=month,
            file=None,
            sha256=None,
            status=status,
            message=message,
            rows_in=0,
            duplicates=0,
            accepted=empty_accepted(contract),
            quarantine=empty_quarantine(),
            ignored_files=ignored,
        )
        base.update(kw)
        return StageResult(**base)

    if chosen is None:
        pattern = f"{_rel(month_dir, landing_root)}/{source}.csv|xlsx|parquet"
        if contract.optional:
            msg = f"可选数据源 {contract.department} 本月未报送（未找到 {pattern}）"
        else:
            msg = f"未收到 {contract.department} 的文件 {pattern}"
        return result(MISSING, msg)

    rel = _rel(chosen, landing_root)
    sha = sha256_file(chosen)
    try:
        raw = read_raw(chosen, is_header=header_test(contract))
    except ReadError as exc:
        if exc.code == EMPTY_FILE:
            msg = f"文件 {rel} 为空：{exc.detail}"
        else:
            msg = f"文件 {rel} 无法读取：{exc.detail}"
        return result(exc.code, msg, file=rel, sha256=sha)

    mapping, extras = map_headers(contract, raw.header)
    header_mapping = {c: raw.header[i] for c, i in mapping.items()}
    extra_cols = [raw.header[i] or f"列{i + 1}" for i in extras]
    missing_req = [c.header for c in contract.columns if c.required and c.canonical not in mapping]
    if missing_req:
        return result(
            MISSING_COLUMN,
            f"文件 {rel} 缺少必需列：{'、'.join(missing_req)}" + "".join(f"；{n}" for n in raw.notes),
            file=rel,
            sha256=sha,
            rows_in=raw.rows_in,  # the file's data rows, all refused with it (0 accepted, 0 quarantined)
            encoding=raw.encoding,
            header_mapping=header_mapping,
            extra_columns=extra_cols,
        )

    first_day = _dt.date(year, mon, 1)
    last_day = _dt.date(year, mon, calendar.monthrange(year, mon)[1])
    frame = _normalize(contract, raw, mapping, month, first_day, last_day)
    rows_in = frame.height

    # wrong month: a dated file with dated rows, none dated in M (interpretations.md #4); a file
    # none of whose rows has a readable date is no file of another month: its rows are quarantined
    if contract.is_dated and rows_in > 0:
        dated_by = contract.dated_by or contract.in_month_columns[0]
        dated, in_m = frame.select(pl.col(dated_by).is_not_null().sum().alias("dated"),
                                   pl.col(dated_by).is_between(first_day, last_day).fill_null(False).sum().alias("in_month")).row(0)
        if dated > 0 and in_m == 0:
            header = contract.header_of(dated_by)
            return result(
                WRONG_MONTH,
                f"文件 {rel} 没有一行的{header}在数据月份 {month} 内，疑为其他月份的文件",
                file=rel,
                sha256=sha,
                rows_in=rows_in,
                encoding=raw.encoding,
                blank_rows=raw.blank_rows,
                header_mapping=header_mapping,
                extra_columns=extra_cols,
            )

    bad, bad_duplicates = first_copies_of_bad_rows(frame.filter(pl.col("__err_code").is_not_null()), contract)
    quarantine = quarantine_rows(bad, contract)

    keep_cols = list(accepted_schema(contract))
    good = frame.filter(pl.col("__err_code").is_null()).select(keep_cols)
    deduped = good.unique(subset=contract.canonical_names, keep="first", maintain_order=True)
    duplicates = good.height - deduped.height + bad_duplicates

    notes = [f"已读取文件 {rel}，忽略同一数据源的其他文件：{'、'.join(ignored)}"] if ignored else []
    notes += [f"文件 {rel}：{n}" for n in raw.notes]
    message = "；".join(notes) or None
    return StageResult(
        source=source,
        month=month,
        file=rel,
        sha256=sha,
        status=ACCEPTED,
        message=message,
        rows_in=rows_in,
        duplicates=duplicates,
        accepted=deduped.cast(accepted_schema(contract)),
        quarantine=quarantine,
        ignored_files=ignored,
        blank_rows=raw.blank_rows,
        encoding=raw.encoding,
        header_mapping=header_mapping,
        extra_columns=extra_cols,
    )


def first_copies_of_bad_rows(bad: pl.DataFrame, contract: Contract) -> tuple[pl.DataFrame, int]:
    """The rows to quarantine and how many extra copies were left out: identical copies of a bad
    row (same normalized values, same first error on the same cell as written) are duplicates like
    any other — kept once, the extra copies counted as duplicates, never as quarantine rows
    (extracts.md "Duplicate rows"). `bad`: rows of `_normalize` with an error, in the file's order."""
    if bad.height < 2:
        return bad, 0
    # the cell as written where the error left no normalized value ("abc" and "xyz" in an amount
    # column are different rows; "-1,234.5" and "-1234.50" are the same negative amount)
    cell = pl.coalesce([
        pl.when(pl.col(f"__e_{c.canonical}").is_not_null() & pl.col(c.canonical).is_null()).then(pl.col(f"__src_{c.canonical}"))
        for c in contract.columns])
    key = pl.struct([*contract.canonical_names, "__err_code", "__err_column", cell.alias("__err_cell")])
    first = bad.filter(key.is_first_distinct())
    return first, bad.height - first.height


def quarantine_rows(bad: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """The quarantine file's rows (QUARANTINE_SCHEMA) of normalized rows that carry an error."""
    idc = contract.id_column
    known_id = pl.when(pl.col(ID_STATUS_COL).is_in([VALID, UPGRADED_15])).then(pl.col(idc)) if idc else pl.lit(None, pl.Utf8)
    name = pl.col("name") if "name" in contract.canonical_names else pl.lit(None, pl.Utf8)
    return bad.select(
        pl.col(ROW_COL).alias("row_number"),
        pl.col("__err_code").alias("reason_code"),
        pl.col("__err_reason").alias("reason"),
        pl.col("__err_column").alias("column"),
        pl.col(RAW_COL).alias("raw"),
        known_id.alias("id_number"),
        name.alias("name"),
    ).cast(QUARANTINE_SCHEMA)


def _cut(cell: pl.Expr, max_chars: int) -> pl.Expr:
    """A cell longer than ``max_chars`` characters cut to that length, with a note of its own length
    (in the raw row kept for every row: a quarantined row is shown to staff, in CSV)."""
    if not max_chars:
        return cell
    n = cell.str.len_chars()
    return (pl.when(n > max_chars)
            .then(pl.concat_str([cell.str.slice(0, max_chars), pl.lit(f"…［超过 {max_chars} 字符，已截断；原长 "),
                                 n.cast(pl.Utf8), pl.lit(" 字符］")]))
            .otherwise(cell))


def _long_cell_error(raw: RawTable, mapping: dict[str, int], max_chars: int) -> tuple[pl.Expr, pl.Expr, pl.Expr] | None:
    """(code, reason, column) of a row with a cell longer than LIM_READ_MAX_CELL_CHARS characters
    (the first such cell, in the file's order): ``invalid_value``, a reason naming the column (as
    the file writes it) and the cell's length, and the canonical column (none for an extra one).
    No department's cell is that long; such a row is quarantined, never accepted, so that no
    staff list or published CSV carries it."""
    if not max_chars or not raw.columns:
        return None
    canonical_of = {i: c for c, i in mapping.items()}
    keys = raw.raw_keys()
    code = reason = column = None
    for i, rc in enumerate(raw.columns):
        n = pl.col(rc).str.len_chars()
        cond = n.fill_null(0) > max_chars
        text = pl.concat_str([pl.lit(f"{keys[i]} 的内容有 "), n.cast(pl.Utf8),
                              pl.lit(f" 个字符，超过单元格长度上限 {max_chars}（{limits.DEFAULTS['max_cell_chars'][0]}）")])
        col = pl.lit(canonical_of.get(i), pl.Utf8)
        if code is None:
            code, reason, column = (pl.when(cond).then(pl.lit(INVALID_VALUE)), pl.when(cond).then(text),
                                    pl.when(cond).then(col))
        else:
            code, reason, column = code.when(cond).then(pl.lit(INVALID_VALUE)), reason.when(cond).then(text), column.when(cond).then(col)
    return (code.otherwise(pl.lit(None, pl.Utf8)), reason.otherwise(pl.lit(None, pl.Utf8)),
            column.otherwise(pl.lit(None, pl.Utf8)))


def _normalize(
    contract: Contract,
    raw: RawTable,
    mapping: dict[str, int],
    month: str,
    first_day: _dt.date,
    last_day: _dt.date,
) -> pl.DataFrame:
    """All rows, with canonical typed columns, ``_id_status``, ``_raw`` and the first
    error of each row (``__err_code``, ``__err_reason``, ``__err_column``)."""
    raw_cols = raw.columns
    keys = raw.raw_keys()
    src = {c.canonical: f"__src_{c.canonical}" for c in contract.columns}
    code = {c.canonical: f"__code_{c.canonical}" for c in contract.columns}
    max_chars = limits.current().max_cell_chars
    long_cell = _long_cell_error(raw, mapping, max_chars)

    lf = raw.data.lazy().with_columns(
        [
            (pl.col(raw_cols[mapping[c.canonical]]) if c.canonical in mapping else pl.lit(None, pl.Utf8)).alias(
                src[c.canonical]
            )
            for c in contract.columns
        ]
        + [
            pl.struct([_cut(pl.col(rc), max_chars).alias(k) for rc, k in zip(raw_cols, keys)]).struct.json_encode().alias(RAW_COL)
            if raw_cols
            else pl.lit("{}").alias(RAW_COL)
        ]
    )
    specs = [
        NormSpec(c.type, src[c.canonical], c.canonical, code[c.canonical], c.required, c.allowed)
        for c in contract.columns
    ]
    lf = apply_normalizers(lf, specs)

    # per-column error (ID statuses are not errors), then the month check
    err: dict[str, pl.Expr] = {}
    for c in contract.columns:
        k = pl.col(code[c.canonical])
        e = pl.when(k.is_in(list(ID_OK_STATUSES))).then(pl.lit(None, pl.Utf8)).otherwise(k) if c.type == "id" else k
        if c.in_month:
            v = pl.col(c.canonical)
            e = (
                pl.when(e.is_null() & v.is_not_null() & ~v.is_between(first_day, last_day))
                .then(pl.lit(DATE_OUTSIDE_MONTH))
                .otherwise(e)
            )
        err[c.canonical] = e
    lf = lf.with_columns([e.alias(f"__e_{c}") for c, e in err.items()])

    codes = [pl.col(f"__e_{c.canonical}") for c in contract.columns]
    reasons = [
        _reason_expr(c, pl.col(f"__e_{c.canonical}"), pl.col(src[c.canonical]), month) for c in contract.columns
    ]
    columns = [
        pl.when(pl.col(f"__e_{c.canonical}").is_not_null()).then(pl.lit(c.canonical)) for c in contract.columns
    ]
    if contract.has_oop_identity:
        total, fund, crit, assist = (pl.col(t) for t in OOP_TERMS)
        oop = pl.col("out_of_pocket")
        expected = total - fund - crit - assist
        bad = (oop - expected).abs() > OOP_TOLERANCE + 1e-9
        codes.append(pl.when(bad).then(pl.lit(OOP_MISMATCH)))
        hdr = {t: contract.header_of(t) for t in ("out_of_pocket", *OOP_TERMS)}
        reasons.append(
            pl.when(bad).then(
                pl.concat_str(
                    [
                        pl.lit(f"{hdr['out_of_pocket']} "),
                        _fmt2(oop),
                        pl.lit(
                            f" 与 {hdr['total_cost']}−{hdr['fund_paid']}−{hdr['critical_illness_paid']}"
                            f"−{hdr['medical_assistance_paid']} = "
                        ),
                        _fmt2(expected),
                        pl.lit(" 不符"),
                    ]
                )
            )
        )
        columns.append(pl.when(bad).then(pl.lit("out_of_pocket")))

    column = pl.coalesce(columns)
    if long_cell is not None:  # before any other error of the row
        codes.insert(0, long_cell[0])
        reasons.insert(0, long_cell[1])
        column = pl.when(long_cell[0].is_not_null()).then(long_cell[2]).otherwise(column)
    outputs = [
        pl.coalesce(codes).alias("__err_code"),
        pl.coalesce(reasons).alias("__err_reason"),
        column.alias("__err_column"),
    ]
    if contract.id_column:
        idc = pl.col(code[contract.id_column])
        outputs.append(
            pl.when(idc.is_in(list(ID_OK_STATUSES))).then(idc).otherwise(pl.lit(None, pl.Utf8)).alias(ID_STATUS_COL)
        )
    lf = lf.with_columns(outputs)
    return lf.collect()


__all__ = [
    "StageResult",
    "stage_source",
    "find_source_file",
    "map_headers",
    "validate_month",
    "accepted_schema",
    "QUARANTINE_SCHEMA",
    "BAD_CHECKSUM",
]
