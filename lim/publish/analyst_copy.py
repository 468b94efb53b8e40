"""The analysts' database: a second DuckDB file in which persons, households and alerts are
pseudonymous keys and no name or ID number appears.

    build_analyst_copy(con_or_path, dest)      # every month of the restricted warehouse

Keys are HMAC-SHA256 over the normalized value with a secret kept outside the repository:

* `LIM_PSEUDONYM_KEY` (the secret itself, at least 32 characters) or
  `LIM_PSEUDONYM_KEY_FILE` (a file holding it, readable by its owner only);
* neither set: refused when `LIM_ENV=production`; otherwise (development) a random key is
  generated once per installation in `var/secrets/pseudonym_key.DEV-ONLY` and used from then on.

The same key gives the same keys every month, so analysts can follow a person or household over
time; without the key, a key cannot be turned back into an ID number (unlike a plain hash, which
anyone can compute for every possible ID). Rotating the key re-keys the whole file.

What the copy contains, table by table, follows `RULES` below: ID columns become `*_key`
columns, name columns, raw rows, free-text reasons and birth dates are left out, quarantine keeps
its reason codes only. The build then scans every text column of the new file for an 18- or
15-digit ID number and for every name of the restricted warehouse, and refuses to publish the file
if one is found. The file is written aside and moved into place in one rename.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import logging
import secrets
import shutil
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from lim.core import settings
from lim.core.paths import DEFAULT_VAR, PathConflict, check_locations
from lim.publish import anonymize as anon
from lim.warehouse import warehouse as wh

log = logging.getLogger(__name__)
DEV_KEY_FILE = DEFAULT_VAR / "secrets" / "pseudonym_key.DEV-ONLY"
MIN_KEY_CHARS = 32


class PseudonymKeyError(RuntimeError):
    """The pseudonymization key is missing or unusable; the message says what to fix."""


class AnalystCopyError(RuntimeError):
    """The copy would contain personal data; it is not published."""


# --- the key ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PseudonymKey:
    secret: bytes
    source: str  # "env", "file:<path>" or "dev:<path>"

    @property
    def fingerprint(self) -> str:
        """Identifies the key (which key made a file) without revealing it."""
        return hmac.new(self.secret, b"lim/fingerprint", hashlib.sha256).hexdigest()[:12]

    def pseudonym(self, kind: str, value: str) -> str:
        digest = hmac.new(self.secret, f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{kind}{digest[:24]}"


def production() -> bool:
    return settings.current().production


def load_key() -> PseudonymKey:
    env_key = settings.current().pseudonym_key
    key_file = settings.current().pseudonym_key_file
    if env_key:
        if len(env_key.strip()) < MIN_KEY_CHARS:
            raise PseudonymKeyError(f"LIM_PSEUDONYM_KEY 太短（至少 {MIN_KEY_CHARS} 个字符），请用随机生成的密钥")
        return PseudonymKey(env_key.strip().encode("utf-8"), "env")
    if key_file:
        p = Path(key_file)
        try:
            text = p.read_text(encoding="utf-8").strip()
            mode = p.stat().st_mode
        except OSError as e:
            raise PseudonymKeyError(f"无法读取假名化密钥文件 {p}：{e.strerror}（检查 LIM_PSEUDONYM_KEY_FILE）") from None
        if len(text) < MIN_KEY_CHARS:
            raise PseudonymKeyError(f"假名化密钥文件 {p} 中的密钥太短（至少 {MIN_KEY_CHARS} 个字符）")
        if production() and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PseudonymKeyError(f"假名化密钥文件 {p} 可被其他用户读取：请执行 chmod 600 {p}")
        return PseudonymKey(text.encode("utf-8"), f"file:{p}")
    if production():
        raise PseudonymKeyError("生产模式（LIM_ENV=production）下未配置假名化密钥：请设置 LIM_PSEUDONYM_KEY "
                                "或 LIM_PSEUDONYM_KEY_FILE（密钥保存在代码仓库之外）")
    return _dev_key()


def _dev_key() -> PseudonymKey:
    """A random key for this installation, created once; for development and tests only."""
    p = DEV_KEY_FILE
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # written aside and linked into place: two processes starting at once (parallel tests, the UI
        # and a CLI run) never read a half-written key, and the first one's key is the one kept
        tmp = p.with_name(f".{p.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, p)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return PseudonymKey(p.read_text(encoding="utf-8").strip().encode("utf-8"), f"dev:{p}")


# --- what goes into the copy -----------------------------------------------------------------------
PERSON, HOUSEHOLD, ALERT = "P", "H", "A"

# column → (kind of key, new name); every table that has the column gets the same treatment
KEYED = {
    "id_number": (PERSON, "person_key"),
    "head_id_number": (PERSON, "head_person_key"),
    "member_id_number": (PERSON, "member_person_key"),
    "household_id": (HOUSEHOLD, "household_key"),
    "rr_household_id": (HOUSEHOLD, "rr_household_key"),
    "hukou_id": (HOUSEHOLD, "hukou_key"),
    "alert_id": (ALERT, "alert_key"),
    "last_alert_id": (ALERT, "last_alert_key"),
    "overdue_alert_id": (ALERT, "overdue_alert_key"),
}
# Left out wherever they appear: names, raw rows and raw IDs, free texts that quote names and
# values, the audit draw's digest (computable from a household number), exact birth dates.
DROPPED = {"name", "head_name", "member_name", "id_raw", "raw", "reason", "reason_text", "evidence",
           "digest", "birth_date", "candidates_list", "observed_value", "exception", "message",
           # closing the loop: the previous alert's reason, and what town staff wrote in free text
           "last_reason_text", "measures", "remarks"}
# Whole tables left out: operational (who ran what, from where) and the schema bookkeeping; and the
# departments' record tables src_<source> (one row per record a department sent: visit dates,
# amounts, addresses' codes): persons_monthly and households_monthly already hold every department's
# facts per person and household, which is what analysts outside the bureau need; the records
# themselves would only make the keys easier to re-identify (minimum necessary, 个人信息保护法 art. 6).
DROPPED_TABLES = {"run_audit"}
DROPPED_TABLE_PREFIXES = ("src_",)
# Kept although the name ends in _name: they name places, codes and rules, not persons.
PLACE_NAMES = {"county_name", "town_name", "village_name", "alert_name", "department_name", "source_name"}


def column_plan(table: str, columns: list[str], types: dict[str, str] | None = None) -> list[tuple[str, str | None, str | None, str | None]]:
    """[(column, kind or None, output name or None=drop, SQL expression over `s`)] for one table:
    keys (KEYED), columns left out (DROPPED, person names, raw IDs), then the generalizations of
    lim/publish/anonymize.py (bands, months, stages, categories)."""
    types = types or {}
    personal = any(c in KEYED and KEYED[c][0] in (PERSON, HOUSEHOLD) for c in columns)
    plan = []
    for c in columns:
        if c in KEYED:
            kind, new = KEYED[c]
            plan.append((c, kind, new, f"_pseudonym('{kind}', CAST(s.{_q(c)} AS VARCHAR))"))
        elif c in DROPPED or (c.endswith("_name") and c not in PLACE_NAMES) or c.endswith("_id_number"):
            plan.append((c, None, None, None))
        else:
            expr, new = anon.column_expr(table, c, types.get(c, ""), personal, f"s.{_q(c)}")
            plan.append((c, None, new if expr else None, expr))
    return plan


# An 18-digit ID (6-digit area, birth date, 3 digits, check character) or a 15-digit old one, not
# inside a longer run of digits; searched in the normalized text (anonymize.normalize_sql: full-width
# digits made ASCII, spaces and separators removed), so `ID360726198405062083`, `３６０７２６…` and
# `360726 1984-0506 2083` are found. Hex digests (sha256 and the like) are not scanned for it.
ID_PATTERN = (r"(^|[^0-9])([1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
              r"|[1-9][0-9]{5}[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3})([^0-9]|$)")
HEX_COLUMNS = ("sha256", "key_fingerprint", "disposition_id", "import_id", "last_answer_id")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def remove_dead_partials(dest: Path) -> list[Path]:
    """The half-written copies (`.<dest>.partial-<pid>`, with IDs' pseudonyms and all) that a killed
    build left behind: removed when their process is gone."""
    removed = []
    for p in dest.parent.glob(f".{dest.name}.partial-*"):
        pid = p.name.rsplit("-", 1)[-1].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # its builder still runs
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def build_analyst_copy(source, dest: str | os.PathLike, key: PseudonymKey | None = None, month: str | None = None) -> dict:
    """Write the pseudonymized copy of every month of the restricted warehouse to `dest`.
    `source` is an open DuckDB connection to the warehouse or its path (opened read-only).

    With `month` (the monthly run): if `dest` exists, was made with the same key and has exactly
    the tables and columns a full build would give, a copy of it is brought up to date instead:
    month M's rows of every monthly table replaced, the other tables (policy, towns) rewritten, and
    only those rows scanned. The warehouse's publish changes month M only, so the result holds the
    same rows as a full build (tests/e2e/test_privacy.py), at the cost of one month instead of the
    whole history. Anything else (no file, other key, other columns) is a full build; so is
    `lim analyst-copy`."""
    dest = Path(dest)
    check_dest(source, dest)
    key = key or load_key()
    dest.parent.mkdir(parents=True, exist_ok=True)
    own = not isinstance(source, duckdb.DuckDBPyConnection)
    con = duckdb.connect(str(source), read_only=True) if own else source
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    remove_dead_partials(dest)

    def clear() -> None:
        for p in (tmp, Path(f"{tmp}.wal")):
            p.unlink(missing_ok=True)

    def attach() -> None:
        con.execute(f"ATTACH '{tmp.as_posix()}' AS ana (READ_ONLY false)")

    def detach() -> None:
        con.execute("CHECKPOINT ana")
        con.execute("DETACH ana")

    clear()
    try:
        info = None
        if month is not None and dest.exists() and not Path(f"{dest}.wal").exists():
            shutil.copyfile(dest, tmp)
            attach()
            try:
                info = _update(con, key, month)
            except duckdb.Error as e:  # an unreadable or odd old copy: build it anew
                log.warning("分析库副本无法增量更新，重新生成：%s", str(e).splitlines()[0])
                info = None
            detach()
            if info is None:
                clear()
        if info is None:
            attach()
            try:
                info = _build(con, key, month)
            finally:
                detach()
        os.chmod(tmp, 0o600)
        os.replace(tmp, dest)
    except BaseException:
        try:
            con.execute("DETACH DATABASE IF EXISTS ana")
        except duckdb.Error:
            pass
        clear()
        raise
    finally:
        if own:
            con.close()
    return {"path": str(dest), **info}


def check_dest(source, dest: Path) -> None:
    """The copy is never written over the restricted warehouse `source` (a path or an open
    connection), its WAL or a folder holding it (symlinks resolved), nor at a directory's path:
    AnalystCopyError (one line) before anything is written."""
    if isinstance(source, duckdb.DuckDBPyConnection):
        rows = source.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        warehouse = rows[0][0] if rows and rows[0][0] else None
    else:
        warehouse = os.fspath(source)
    if warehouse:
        try:
            check_locations(warehouse=warehouse, analyst=dest)
        except PathConflict as e:
            raise AnalystCopyError(str(e)) from None
    if dest.is_dir():
        raise AnalystCopyError(f"分析库副本路径 {dest} 是一个目录，请指定一个文件路径（--dest 或 LIM_ANALYST_DB）")


def _tables(con, database: str | None = None) -> dict[str, list[str]]:
    db = "current_database()" if database is None else "?"
    params = [] if database is None else [database]
    columns: dict[str, list[str]] = {}
    for t, c in con.sql(f"select table_name, column_name from duckdb_columns() where database_name = {db} "
                        "and schema_name = 'main' order by table_name, column_index", params=params).fetchall():
        columns.setdefault(t, []).append(c)
    # the warehouse's monthly tables are views (duckdb_columns() has views' columns too)
    return {t: columns.get(t, []) for t in wh.table_names(con, "main", database)}


def _types(con) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for t, c, ty in con.sql("select table_name, column_name, data_type from duckdb_columns() "
                            "where database_name = current_database() and schema_name = 'main'").fetchall():
        out.setdefault(t, {})[c] = ty
    return out


def _plans(con) -> dict[str, list[tuple[str, str | None, str | None, str | None]]]:
    """Every table of the copy and its column plan (tables with nothing left to copy are left out)."""
    types = _types(con)
    plans = {t: column_plan(t, cols, types.get(t, {})) for t, cols in _tables(con).items()
             if t not in DROPPED_TABLES and not t.startswith(DROPPED_TABLE_PREFIXES)}
    return {t: plan for t, plan in plans.items() if any(new for _, _, new, _ in plan)}


def _select(plan) -> str:
    return ", ".join(f"{expr} AS {_q(new)}" for _, _, new, expr in plan if new is not None)


def _amount_cols(plans) -> dict[str, list[str]]:
    """The banded amounts of each table (set to NULL with a household's income band)."""
    return {t: [new for _, kind, new, expr in plan if new and expr and expr.startswith("CAST(floor(")] for t, plan in plans.items()}


def _rows_of(database: str, table: str, month: str | None = None, monthly=()) -> str:
    """The table, or only month M's rows of it when it is one of the `monthly` tables."""
    ref = f"{database}.main.{_q(table)}"
    if not (month and table in monthly):
        return ref
    quoted = "'" + month.replace("'", "''") + "'"
    return f"(SELECT * FROM {ref} WHERE month = {quoted})"


SUPPRESSED_TABLE = ("CREATE TABLE IF NOT EXISTS ana.main.about_this_copy_suppressed (month VARCHAR, table_name VARCHAR, "
                    "column_name VARCHAR, reason VARCHAR, cells BIGINT)")


def _k_sources(con, plans: dict, months: list[str] | None, built: bool = False) -> None:
    """TEMP tables with what k-anonymity reads, made from the restricted warehouse with the copy's own
    expressions (keys, bands): the same values whether the copy is built or updated. `built` (a
    full build, before any suppression): the copy's tables hold exactly those values already, and
    they are read from there rather than computed again (1.5 M keys of persons_monthly at
    prefecture size); household_members_monthly's exact ages are only in the warehouse."""
    def proj(t: str, wanted: list[str], where: str = "") -> str:
        plan = plans.get(t, [])
        have = {new: expr for _, _, new, expr in plan if new}
        if built:
            cols = [f"s.{_q(w)} AS {w}" if w in have else f"NULL::VARCHAR AS {w}" for w in wanted]
        else:
            cols = [f"{have[w]} AS {w}" if w in have else f"NULL::VARCHAR AS {w}" for w in wanted]
        if t not in plans:  # a warehouse without the table (a partial one in tests): no rows
            return f"SELECT {', '.join(cols)} WHERE false"
        return f"SELECT {', '.join(cols)} FROM {'ana.main' if built else 'main'}.{_q(t)} s {where}"

    scope = "" if months is None else "WHERE s.month IN (" + ", ".join("'" + m.replace("'", "''") + "'" for m in months) + ")"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _hh_src AS {proj('households_monthly', ['month', 'household_key', 'town_code', 'n_listed'])}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _det_src AS {proj('determinations', ['month', 'household_key', 'household_size', 'per_capita_income'])}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _p_src AS {proj('persons_monthly', ['month', 'person_key', 'sex'], scope)}")
    anon.household_levels(con)
    if "household_members_monthly" in plans and "age" in _tables(con).get("household_members_monthly", []):  # exact ages, for their bands
        con.execute(f"CREATE OR REPLACE TEMP TABLE _hm_src AS SELECT month, {_select_one(plans, 'household_members_monthly', 'household_key')} "
                    f"AS household_key, {_select_one(plans, 'household_members_monthly', 'person_key')} AS person_key, s.age "
                    f"FROM main.household_members_monthly s {scope}")


def _select_one(plans, t: str, new: str) -> str:
    return next(expr for _, _, n, expr in plans[t] if n == new)


def _drop_k_sources(con) -> None:
    for t in ("_hh_src", "_det_src", "_hm_src", "_p_src", "_hh", "_hhs", "_pa", "_pa_rows", "_low", "_mem", "_mrows", "_rows"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _build(con, key: PseudonymKey, month: str | None = None) -> dict:
    plans = _plans(con)
    # Keys are computed by DuckDB itself (HMAC-SHA256, _hmac_key below): no Python per value, no set
    # of every ID in memory; byte-identical to PseudonymKey.pseudonym (tests/e2e/test_privacy.py).
    _hmac_key(con, key)
    for t, plan in plans.items():
        con.execute(f"CREATE TABLE ana.main.{_q(t)} AS SELECT {_select(plan)} FROM main.{_q(t)} s")
        dropped = [c for c, _, new, _ in plan if new is None]
        note = "假名化副本：人员、家庭、预警编号为 HMAC-SHA256 假名键" + (f"；已删除列：{'、'.join(dropped)}" if dropped else "")
        con.execute(f"COMMENT ON TABLE ana.main.{_q(t)} IS '{note}'")
        for c, kind, new, _ in plan:
            if kind and new:
                con.execute(f"COMMENT ON COLUMN ana.main.{_q(t)}.{_q(new)} IS "
                            f"'{c} 的假名键（HMAC-SHA256，密钥指纹 {key.fingerprint}；同一密钥下各月一致）'")
    con.execute("CREATE TABLE ana.main.about_this_copy (built_at TIMESTAMP, key_fingerprint VARCHAR, months VARCHAR, rules VARCHAR)")
    con.execute(SUPPRESSED_TABLE)
    months = [m for (m,) in con.sql("SELECT DISTINCT month FROM ana.main.households_monthly ORDER BY 1").fetchall()] \
        if "households_monthly" in plans else []
    _k_sources(con, plans, None, built=True)
    anon.apply_k_anonymity(con, months, set(plans), _amount_cols(plans))
    _drop_k_sources(con)
    return _finish(con, key, plans, month, scan_all=True)


def _update(con, key: PseudonymKey, month: str) -> dict | None:
    """Bring the attached old copy `ana` up to date with month M; None if it does not fit."""
    plans = _plans(con)
    have = _tables(con, "ana")
    if "about_this_copy" not in have or "about_this_copy_suppressed" not in have:
        return None
    fingerprints = {r[0] for r in con.sql("SELECT key_fingerprint FROM ana.main.about_this_copy").fetchall()}
    expected = {t: [new for _, _, new, _ in plan if new] for t, plan in plans.items()}
    if fingerprints != {key.fingerprint} or {t: c for t, c in have.items() if t not in ABOUT} != expected:
        return None
    _hmac_key(con, key)
    monthly = set(wh.monthly_tables(con))  # the tables whose month M alone publish replaced
    for t, plan in plans.items():
        if t in monthly:
            con.execute(f"DELETE FROM ana.main.{_q(t)} WHERE month = ?", [month])
            con.execute(f"INSERT INTO ana.main.{_q(t)} SELECT {_select(plan)} FROM main.{_q(t)} s WHERE s.month = ?", [month])
        else:
            con.execute(f"DELETE FROM ana.main.{_q(t)}")
            con.execute(f"INSERT INTO ana.main.{_q(t)} SELECT {_select(plan)} FROM main.{_q(t)} s")
    con.execute("DELETE FROM ana.main.about_this_copy")
    con.execute("DELETE FROM ana.main.about_this_copy_suppressed WHERE month = ? OR table_name NOT IN "
                f"(SELECT unnest(?::VARCHAR[]))", [month, sorted(monthly)])
    _k_sources(con, plans, [month])
    anon.apply_k_anonymity(con, [month], {t for t in plans if t not in monthly}, _amount_cols(plans))
    _drop_k_sources(con)
    return _finish(con, key, plans, month, scan_all=False)


ABOUT = ("about_this_copy", "about_this_copy_suppressed")


def _finish(con, key: PseudonymKey, plans: dict, month: str | None, scan_all: bool) -> dict:
    """about_this_copy, the personal-data scan (every row, or month M's rows of the monthly tables
    and every row of the others): findings in coded and free-text columns set to NULL and counted,
    any other finding refuses the copy; and the counts of persons and households (of month M if
    given)."""
    monthly = set(wh.monthly_tables(con))
    rows = {t: con.sql(f"select count(*) from ana.main.{_q(t)}").fetchall()[0][0] for t in plans}
    months = sorted({m for t in ("load_log", "alerts") if t in rows
                     for (m,) in con.sql(f"select distinct month from ana.main.{_q(t)}").fetchall()})
    con.execute("INSERT INTO ana.main.about_this_copy VALUES (?, ?, ?, ?)",
                [datetime.now(timezone.utc).replace(tzinfo=None), key.fingerprint, ",".join(months),
                 "身份证号、家庭编号、预警编号替换为 HMAC-SHA256 假名键；删除姓名、原始行、原因文字、学校名称、死亡证据；"
                 "诊断只保留“重大疾病”类别；日期只保留年月；年龄为5岁年龄段；金额按100元取整；村只保留到乡镇；"
                 f"按月做 k 匿名（k={anon.K}）：不足 {anon.K} 户/人的组放宽或隐去（见 about_this_copy_suppressed）；"
                 "自由文本中发现身份证号或姓名的单元格置空并计数；隔离行只保留原因代码"])
    prepare_name_scan(con)
    suppress_findings(con, "ana", None if scan_all else month, monthly)
    leaks = scan_for_personal_data(con, "ana", None if scan_all else month, monthly)
    if leaks:
        raise AnalystCopyError("分析库副本中发现个人信息，未发布：" + "；".join(leaks[:5]))
    counts = {}
    for kind in (PERSON, HOUSEHOLD):
        cols = [f"select {_q(new)} as k from {_rows_of('ana', t, month, monthly)}" for t, plan in plans.items()
                for _, k, new, _ in plan if k == kind and new]
        counts[kind] = con.sql(f"select count(distinct k) from ({' UNION ALL '.join(cols)})").fetchall()[0][0] if cols else 0
    con.execute("DROP TABLE IF EXISTS _hmac")
    return {"tables": rows, "months": months, "key_fingerprint": key.fingerprint,
            "persons": counts[PERSON], "households": counts[HOUSEHOLD]}


def _hmac_key(con, key: PseudonymKey) -> None:
    """TEMP macro _pseudonym(kind, value) = kind || first 24 hex of HMAC-SHA256(secret, 'kind:value'),
    computed in SQL from the key padded to the block size (RFC 2104): H((K^opad) || H((K^ipad) || m)).
    The padded key lives in a TEMP table of this connection only, never in a statement's text."""
    k = key.secret if len(key.secret) <= 64 else hashlib.sha256(key.secret).digest()
    k = k.ljust(64, b"\0")
    con.execute("CREATE OR REPLACE TEMP TABLE _hmac (ipad BLOB, opad BLOB)")
    con.execute("INSERT INTO _hmac VALUES (?, ?)", [bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)])
    con.execute("CREATE OR REPLACE TEMP MACRO _pseudonym(kind, v) AS "
                "CASE WHEN v IS NOT NULL THEN kind || left(sha256((SELECT opad FROM _hmac) || "
                "unhex(sha256((SELECT ipad FROM _hmac) || encode(kind || ':' || v)))), 24) END")


NAME_TABLES_LEFT_OUT = ("month_parameters", "policy_parameters")  # their `name` is a parameter's name


def prepare_name_scan(con) -> None:
    """TEMP table _names: every person's name in the restricted warehouse (`con`'s main schema),
    normalized like the scanned text; TEMP table _vocab: the values coded columns may hold
    (contracts' enum values, the alert catalogue, the county's place names)."""
    name_cols = [(t, c) for t, cols in _tables(con).items() for c in cols
                 if c in ("name", "head_name", "member_name") and t not in NAME_TABLES_LEFT_OUT]
    union = " UNION ".join(f"select {_q(c)} as n from main.{_q(t)}" for t, c in name_cols) or "select NULL::VARCHAR as n"
    # The distinct names first, each normalized once: with the filter on the normalized name over the
    # UNION, DuckDB pushes it into every branch and normalizes every row of every table (5.9 M rows,
    # 11 s at prefecture size, for 0.56 M distinct names); both steps MATERIALIZED keep that order.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _names AS WITH raw AS MATERIALIZED ({union}), "
                f"normalized AS MATERIALIZED (SELECT {anon.normalize_sql('n')} AS n FROM raw) "
                "SELECT DISTINCT n FROM normalized WHERE length(n) >= 2")
    con.execute("CREATE OR REPLACE TEMP TABLE _vocab (v VARCHAR)")
    con.execute("INSERT INTO _vocab SELECT unnest(?::VARCHAR[])", [anon.vocabulary()])
    places = [(t, c) for t, cols in _tables(con).items() for c in cols
              if c in ("county_name", "town_name", "village_name") and t in ("counties", "towns", "villages")]
    for t, c in places:
        con.execute(f"INSERT INTO _vocab SELECT DISTINCT {_q(c)} FROM main.{_q(t)} WHERE {_q(c)} IS NOT NULL")


def column_kind(c: str) -> str:
    """'key', 'coded', 'free' (lim/publish/anonymize.py: a finding is set to NULL) or 'other' (a
    column nobody classified: a finding refuses the copy)."""
    if c.endswith("_key"):
        return "key"
    if c in anon.CODED or c.endswith("_code"):
        return "coded"
    if c in anon.FREE_TEXT:
        return "free"
    return "other"


# The distinct values of this many columns are gathered by one statement (one statement per
# column, ~170 of them, was a tenth of a small month's analysts' copy: bench/PERF.md change 19).
COLUMNS_PER_STATEMENT = 32


def _findings(con, database: str, month: str | None, monthly, kinds: tuple[str, ...]) -> list[tuple]:
    """[(table, column, value, has_id, has_name)] over the distinct values of the text columns of
    the given kinds. Names: in coded columns an exact name that is not in the vocabulary; elsewhere
    any name inside the normalized text (compared only for text with a Chinese character, or exactly)."""
    cols = [(t, c) for t, c in con.sql("select table_name, column_name from duckdb_columns() where database_name = ? "
                                       "and schema_name = 'main' and data_type = 'VARCHAR'", params=[database]).fetchall()
            if column_kind(c) in kinds]
    if not cols:
        return []
    con.execute("CREATE OR REPLACE TEMP TABLE _values (t VARCHAR, c VARCHAR, coded BOOLEAN, v VARCHAR, nv VARCHAR)")
    for i in range(0, len(cols), COLUMNS_PER_STATEMENT):
        con.execute("INSERT INTO _values " + "\nUNION ALL ".join(
            f"SELECT {wh.sql_literal(t)}, {wh.sql_literal(c)}, {'TRUE' if column_kind(c) == 'coded' else 'FALSE'}, v, "
            f"{anon.normalize_sql('v')} FROM (SELECT DISTINCT {_q(c)} AS v FROM {_rows_of(database, t, month, monthly)}) "
            "WHERE v IS NOT NULL" for t, c in cols[i:i + COLUMNS_PER_STATEMENT]))
    found = con.sql(f"""
        WITH ids AS (SELECT t, c, v FROM _values WHERE c NOT IN {HEX_COLUMNS} AND regexp_matches(nv, '{ID_PATTERN}')),
             exact AS (SELECT t, c, v FROM _values WHERE nv IN (SELECT n FROM _names) AND v NOT IN (SELECT v FROM _vocab)),
             inside AS (SELECT DISTINCT x.t, x.c, x.v FROM (SELECT * FROM _values WHERE NOT coded AND v NOT IN (SELECT v FROM _vocab)
                                                              AND regexp_matches(nv, '[\u4e00-\u9fff]')) x
                        JOIN _names n ON contains(x.nv, n.n)),
             names AS (SELECT * FROM exact UNION SELECT * FROM inside)
        SELECT t, c, v, bool_or(k = 'id'), bool_or(k = 'name') FROM
            (SELECT *, 'id' AS k FROM ids UNION ALL SELECT *, 'name' FROM names) GROUP BY ALL ORDER BY ALL""").fetchall()
    con.execute("DROP TABLE _values")
    return found


def suppress_findings(con, database: str, month: str | None = None, monthly=()) -> dict[str, int]:
    """Cells of coded and free-text columns holding something ID-shaped or a person's name are set to
    NULL (month M's rows of the monthly tables, every row of the others) and counted in
    about_this_copy_suppressed: {'table.column': cells}. The copy is published without them, and
    the next month is scanned afresh: a bad value never locks the copy."""
    out: dict[str, int] = {}
    found = _findings(con, database, month, monthly, ("coded", "free"))
    by_col: dict[tuple[str, str], list[tuple]] = {}
    for t, c, v, has_id, has_name in found:
        by_col.setdefault((t, c), []).append((v, has_id, has_name))
    for (t, c), vals in by_col.items():
        ref = f"{database}.main.{_q(t)}"
        scope = f"month = '{month}'" if month and t in monthly else "TRUE"
        has_month = bool(con.sql("select 1 from duckdb_columns() where database_name = ? and table_name = ? and column_name = 'month'",
                                 params=[database, t]).fetchall())
        for reason, pick in (("身份证号样式的数字", 1), ("人员姓名", 2)):
            vs = [v[0] for v in vals if v[pick] and not (pick == 2 and v[1])]
            if not vs:
                continue
            where = f"{scope} AND {_q(c)} IN (SELECT unnest(?::VARCHAR[]))"
            con.execute(f"INSERT INTO {database}.main.about_this_copy_suppressed SELECT {'month' if has_month else 'NULL'}, ?, ?, ?, count(*) "
                        f"FROM {ref} WHERE {where} GROUP BY ALL", [t, c, f"个人信息扫描：{reason}", vs])
            n = con.execute(f"UPDATE {ref} SET {_q(c)} = NULL WHERE {where}", [vs]).fetchall()[0][0]
            out[f"{t}.{c}"] = out.get(f"{t}.{c}", 0) + n
    if out:
        log.warning("分析库副本：%s 个单元格含身份证号样式的数字或人员姓名，已置空（见 about_this_copy_suppressed）", sum(out.values()))
    return out


def scan_for_personal_data(con, database: str, month: str | None = None, monthly=()) -> list[str]:
    """What refuses the copy: key columns (`*_key`) holding anything but our keys, and columns that
    lim/publish/anonymize.py does not classify holding something shaped like an ID number (in the
    normalized text) or a name of the TEMP table _names (prepare_name_scan), even inside a text.
    Coded and free-text columns were cleaned by suppress_findings before. With `month`, only that
    month's rows of the `monthly` tables are scanned (the rest were scanned when their month was
    added)."""
    leaks = []
    cols = con.sql("select table_name, column_name from duckdb_columns() where database_name = ? and data_type = 'VARCHAR'",
                   params=[database]).fetchall()
    for t, c in cols:
        if column_kind(c) != "key":
            continue
        n = con.sql(f"select count(*) from {_rows_of(database, t, month, monthly)} where {_q(c)} is not null "
                    f"and not regexp_full_match({_q(c)}, '[{PERSON}{HOUSEHOLD}{ALERT}][0-9a-f]{{24}}')").fetchall()[0][0]
        if n:
            leaks.append(f"{t}.{c} 有 {n} 个值不是假名键")
    if con.sql("select count(*) from duckdb_tables() where database_name = 'temp' and table_name = '_vocab'").fetchall()[0][0] == 0:
        con.execute("CREATE OR REPLACE TEMP TABLE _vocab (v VARCHAR)")
    by_col: dict[tuple[str, str], list] = {}
    for t, c, v, has_id, has_name in _findings(con, database, month, monthly, ("other",)):
        by_col.setdefault((t, c), []).append((v, has_id, has_name))
    for (t, c), vals in sorted(by_col.items()):
        for what, pick in (("含身份证号样式的数字", 1), ("含人员姓名", 2)):
            vs = [v[0] for v in vals if v[pick]]
            if vs:
                n = con.sql(f"select count(*) from {_rows_of(database, t, month, monthly)} where {_q(c)} in (select unnest(?::VARCHAR[]))",
                            params=[vs]).fetchall()[0][0]
                leaks.append(f"{t}.{c} 有 {n} 个值{what}")
    return leaks


def default_dest(warehouse_path: str) -> Path:
    return Path(settings.current().analyst_path(warehouse_path))
