"""Staging a big UTF-8 CSV in batches, so that no whole table is held in memory.

`stage_streamed` gives exactly what `lim.ingest.staging.stage_source` followed by writing its frames
gives (same rows, values, order, row numbers, quarantine, duplicates, load counts), for the one
case that matters at province size: a large, strictly UTF-8 CSV without BOM. The file is parsed
by polars' streaming CSV reader in batches of LIM_STREAM_BATCH_ROWS rows; each batch goes through
the same `_normalize` as the whole-file path (every expression in it is row-wise) and is appended
to the staged Parquet files. Two things need the whole file and are done without holding it:

* duplicates (identical canonical columns, the first row kept): a 64-bit hash per accepted row
  finds the few candidate rows; only those are read back and compared exactly
  (`is_first_distinct`, as `unique(keep="first", maintain_order=True)`), and the later copies
  are filtered out of the Parquet file in one streaming pass;
* the wrong-month refusal (no row dated in M) is known at the end: the batch output is removed
  and the whole-file path produces the refusal.

A title above the header (extracts.md) is found as `read_raw` finds it
(`readers.title_above_header`, in the file's first bytes): its lines are skipped and the data rows
keep their numbers in the file.

Anything unusual (another encoding, a BOM, NUL bytes, ragged lines, an unnamed trailing column, a
missing required column, a header not separated by commas below a title, a header wider than
LIM_READ_MAX_COLUMNS (lim/core/limits.py), a parser error, a small file) returns None: the caller then uses
`stage_source`, so every refusal and message stays where it is written.
"""
from __future__ import annotations

import calendar
import codecs
import datetime as _dt
import os
from pathlib import Path

import polars as pl

from lim.core import limits, settings
from lim.core.hashing import sha256_file
from lim.ingest.readers import (HEADER_SCAN_BYTES, ROW_COL, RawTable, _nonblank, _strip_header_cell, csv_width_problem,
                            title_above_header)
from lim.ingest.staging import (
    ACCEPTED,
    QUARANTINE_SCHEMA,
    _normalize,
    _rel,
    accepted_schema,
    find_source_file,
    first_copies_of_bad_rows,
    header_test,
    map_headers,
    quarantine_rows,
    validate_month,
)
from lim.core.contracts import load_contract

STREAM_MIN_BYTES = settings.current().stream_min_bytes  # LIM_STREAM_MIN_BYTES (lim/core/settings.py)
BATCH_ROWS = settings.current().stream_batch_rows  # LIM_STREAM_BATCH_ROWS
_SLICE = 1 << 24


def _sha256_if_utf8(path: Path) -> str | None:
    """sha256 of the file if it is strict UTF-8 without BOM or NUL (one pass), else None."""
    dec = codecs.getincrementaldecoder("utf-8")(errors="strict")

    def utf8(chunk: bytes, first: bool) -> bool:
        if first and (chunk.startswith(b"\xef\xbb\xbf") or b"\x00" in chunk[:65536]):
            return False
        try:
            dec.decode(chunk, final=False)
        except UnicodeDecodeError:
            return False
        return True

    sha = sha256_file(path, _SLICE, utf8)
    if sha is None:
        return None
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return sha


class _Writer:
    """Appends polars frames to one Parquet file (pyarrow), created at the first frame."""

    def __init__(self, path: Path):
        self.path = path
        self.writer = None
        self.rows = 0

    def write(self, df: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = df.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table)
        self.rows += df.height

    def close(self, empty: pl.DataFrame) -> None:
        if self.writer is None:
            empty.write_parquet(self.path)
        else:
            self.writer.close()


def stage_streamed(source: str, month: str, month_dir: Path, landing_root: Path, paths: dict[str, Path]) -> dict | None:
    """Stage <month_dir>/<source>.csv into paths["accepted"] / paths["quarantine"] batch by batch
    and return the load record, or None when the whole-file path must be used."""
    try:
        year, mon = validate_month(month)
    except ValueError:
        return None
    chosen, others = find_source_file(Path(month_dir), source)
    if chosen is None or chosen.suffix.lower() != ".csv" or chosen.stat().st_size < STREAM_MIN_BYTES:
        return None
    sha = _sha256_if_utf8(chosen)
    if sha is None:
        return None
    contract = load_contract(source)
    first_day = _dt.date(year, mon, 1)
    last_day = _dt.date(year, mon, calendar.monthrange(year, mon)[1])
    tmp_acc = paths["accepted"].with_suffix(".stream.parquet")
    tmp_q = paths["quarantine"].with_suffix(".stream.parquet")
    try:
        res = _stream(contract, chosen, month, first_day, last_day, tmp_acc, tmp_q)
    except pl.exceptions.PolarsError:
        res = None
    if res is None:
        for p in (tmp_acc, tmp_q):
            p.unlink(missing_ok=True)
        return None
    os.replace(tmp_q, paths["quarantine"])
    os.replace(tmp_acc, paths["accepted"])
    landing_root = Path(landing_root)
    rel = _rel(chosen, landing_root)
    ignored = [_rel(p, landing_root) for p in others]
    message = f"已读取文件 {rel}，忽略同一数据源的其他文件：{'、'.join(ignored)}" if ignored else None
    return {"source": source, "month": month, "file": rel, "sha256": sha, "status": ACCEPTED, "message": message,
            "rows_in": res["rows_in"], "duplicates": res["duplicates"], "accepted": res["accepted"],
            "quarantined": res["quarantined"], "ignored_files": ignored}


def _stream(contract, path: Path, month: str, first_day, last_day, tmp_acc: Path, tmp_q: Path) -> dict | None:
    schema = accepted_schema(contract)
    keep_cols = list(schema)
    canon = contract.canonical_names
    acc, quar = _Writer(tmp_acc), _Writer(tmp_q)
    header: list[str] | None = None
    mapping: dict[str, int] = {}
    names: list[str] = []
    # a title above the header (readers.title_above_header, found in the file's first bytes): its
    # lines are skipped and its records keep their place in the row numbers, as in read_raw
    with open(path, "rb") as fh:
        head = fh.read(HEADER_SCAN_BYTES + 1)
    title = title_above_header(head, header_test(contract), complete=len(head) <= HEADER_SCAN_BYTES)
    if title is not None and title.sep != ",":
        return None  # another separator: the whole-file path reads it
    # a header wider than LIM_READ_MAX_COLUMNS (or not ended within the first bytes): the whole-file
    # path refuses it before parsing (lim/ingest/readers.py)
    rest = head[title.offset:] if title is not None else head
    if csv_width_problem(rest, ",", limits.current().max_columns) or (len(head) > HEADER_SCAN_BYTES and b"\n" not in rest):
        return None
    skip_lines = title.lines if title is not None else 0
    next_row = 2 + (title.rows if title is not None else 0)  # spreadsheet row of the next data line
    rows_in = in_month = dated = 0
    hashes: list[pl.Series] = []
    bad_parts: list[pl.DataFrame] = []
    bad_duplicates = 0
    try:
        batches = pl.scan_csv(path, has_header=False, infer_schema=False, empty_string_is_null=False,
                              raise_if_empty=False, skip_lines=skip_lines).collect_batches(chunk_size=BATCH_ROWS)
        for batch in batches:
            if header is None:
                if batch.height == 0:
                    continue
                header = [_strip_header_cell(h) for h in batch.row(0)]
                if not header or not (header[-1] or "").strip():
                    return None  # trailing unnamed columns: the whole-file path decides
                mapping, _ = map_headers(contract, header)
                if any(c.required and c.canonical not in mapping for c in contract.columns):
                    return None
                names = [f"c{i}" for i in range(len(header))]
                batch = batch.slice(1)
            if batch.width != len(names):
                return None
            cells = batch.rename(dict(zip(batch.columns, names))).with_columns(pl.all().cast(pl.Utf8))
            cells = cells.with_row_index(ROW_COL, offset=next_row).with_columns(pl.col(ROW_COL).cast(pl.Int64))
            next_row += cells.height
            kept = cells.filter(pl.any_horizontal([_nonblank(pl.col(c)) for c in names])) if cells.height else cells
            raw = RawTable(header=header, data=kept.select([ROW_COL, *names]), format="csv", encoding="utf-8")
            frame = _normalize(contract, raw, mapping, month, first_day, last_day)
            rows_in += frame.height
            if contract.is_dated and frame.height:
                dated_by = contract.dated_by or contract.in_month_columns[0]
                d, m = frame.select(pl.col(dated_by).is_not_null().sum().alias("dated"),
                                    pl.col(dated_by).is_between(first_day, last_day).fill_null(False).sum().alias("in_month")).row(0)
                dated, in_month = dated + d, in_month + m
            bad = frame.filter(pl.col("__err_code").is_not_null())
            if bad.height:  # few rows: kept until the end, where their duplicates are known
                bad_parts.append(bad)
            good = frame.filter(pl.col("__err_code").is_null()).select(keep_cols).cast(schema)
            if good.height:
                hashes.append(good.select(pl.struct(canon).hash(seed=0)).to_series())
                acc.write(good)
            del frame, bad, good, raw, kept, cells
        if bad_parts:
            bad, bad_duplicates = first_copies_of_bad_rows(pl.concat(bad_parts, how="vertical_relaxed"), contract)
            quar.write(quarantine_rows(bad, contract))
    finally:
        acc.close(pl.DataFrame(schema=schema))
        quar.close(pl.DataFrame(schema=QUARANTINE_SCHEMA))
    if header is None:
        return None
    if contract.is_dated and dated > 0 and in_month == 0:
        return None  # wrong month: refused by the whole-file path
    duplicates = 0
    if hashes:
        h = pl.concat(hashes)
        dup_hashes = h.filter(h.is_duplicated()).unique()
        if dup_hashes.len():
            cand = (pl.scan_parquet(tmp_acc)
                    .filter(pl.struct(canon).hash(seed=0).is_in(dup_hashes.implode()))
                    .select([ROW_COL, *canon]).collect().sort(ROW_COL))
            drop = cand.filter(~pl.struct(canon).is_first_distinct()).get_column(ROW_COL)
            duplicates = drop.len()
            if duplicates:
                deduped = tmp_acc.with_suffix(".dedup.parquet")
                (pl.scan_parquet(tmp_acc).filter(~pl.col(ROW_COL).is_in(drop.implode()))
                 .sink_parquet(deduped, maintain_order=True))
                os.replace(deduped, tmp_acc)
    return {"rows_in": rows_in, "duplicates": duplicates + bad_duplicates, "accepted": acc.rows - duplicates,
            "quarantined": quar.rows}
