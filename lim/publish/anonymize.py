"""What the analysts' copy (lim/publish/analyst_copy.py) does to each column beyond pseudonymous keys,
so that the copy stays anonymous when joined with a town's alert list or counted by
(village, age, sex) — issue #21 item 7. Everything runs as SQL inside DuckDB.

Column treatments (`TREATMENTS`, by column name, in every table that has the column; then by type):

| treatment      | columns | in the copy |
|---|---|---|
| `drop`         | `school` (a school's name), `death_evidence` (quotes the exact date), `village_code` (the town stays), `evidence_fingerprint` (a digest of values a town list shows) | left out |
| `stage`        | `school` is left out; `school_stage` (学前/小学/初中/…) stays | the stage only |
| `diagnosis`    | `serious_diagnoses` | `重大疾病` when the person has one: the category rules.md uses, never the diagnosis text |
| `month`        | every DATE column (`death_date`, `last_review_date`, `check_date`, `due_date`, …) | `YYYY-MM` text, renamed `*_month` |
| `age_band`     | `age` | `age_band`, 5-year bands `00-04`, `05-09`, … (wider or empty after k-anonymity, below) |
| `amount_band`  | every DECIMAL amount of a table with person or household keys, except the policy's own lines (`POLICY_AMOUNTS`) | rounded down to 100 yuan: 1008.60 → 1000 means 1000–1099.99 |

k-anonymity, per month (a month's classes depend on that month's rows only, so the monthly update
recomputes month M alone and equals a full build), K = 5:

1. Households: quasi-identifiers (town, household size, per-capita income band). A household whose
   class has fewer than K households loses its amounts (income band and every amount of its rows,
   from which the band could be recomputed); then its town (class: size within the county); then
   its key for that month (`household_key` NULL in every table: the rows still count, they link to
   nothing). Household size is never blanked: the member rows under the key give it away.
2. Members: (household's published town, size, income band, age band, sex). Below K: the age band
   widens to 00-17 / 18-59 / 60+; still below K: age band and sex are left empty.
3. Rows that point to a household and say something a town list shows (alerts: type, status,
   first month, priority; resolved alerts, dispositions, withheld evaluations, audit draws): a
   (month, row's codes, household's published town/size/band) class with fewer than K households
   first loses first month and priority, then the row's keys (household, persons, alert).

Every cell set to NULL by these steps or by the personal-data scan is counted, per month, table,
column and reason, in `about_this_copy_suppressed`.

The scan (`lim/publish/analyst_copy.py`) normalizes text first (`NORMALIZE`: full-width forms to
ASCII as NFKC does, separators and spaces removed), so `ID360726198405062083`, full-width digits
and `360726 1984-0506 2083` are found. Column kinds for the scan:

* key columns (`*_key`): must hold our keys; anything else is a build error — refused;
* coded columns (`CODED`, declared): a value from a closed set (the contracts' enum values, the
  alert catalogue, rule codes). Not scanned for names — a person called 城市 does not make the
  column `urban_rural` a leak — unless the value is not in the vocabulary (`_vocab`: every
  contract's allowed values and the alert catalogue): an unexpected exact name there is found;
* free-text columns (`FREE_TEXT`, declared): scanned for IDs and for every input name as a
  substring;
* a finding in a coded or free-text column is fixed, not refused: the cell is set to NULL and
  counted, so one bad month never locks the copy; any other column (one the copy does not know) is
  scanned like free text and a finding there refuses the copy, since nobody has decided what it
  may hold.
"""
from __future__ import annotations

import csv

from lim.core.contracts import SOURCES, allowed_values
from lim.core.paths import ROOT
from lim.warehouse.warehouse import sql_literal

K = 5
AMOUNT_STEP = 100
AGE_STEP = 5

TREATMENTS = {
    "school": "drop", "death_evidence": "drop", "village_code": "drop", "evidence_fingerprint": "drop",
    "serious_diagnoses": "diagnosis",
    "age": "age_band",
}
# Amounts that are the policy's lines, the same for a whole town or county: kept exact.
POLICY_AMOUNTS = {"standard", "marginal_line", "expenditure_ceiling", "asset_limit_per_capita"}

CODED = {
    "month", "first_month", "since_month", "gradual_exit_since", "last_alert_month", "effective_from", "effective_to",
    "policy_period", "region_code", "county_code", "town_code", "county_name", "town_name", "village_name",
    "household_source", "alert_type", "alert_name", "priority", "list_priority", "last_priority", "status",
    "category", "category_now", "roster_type", "urban_rural", "reasons", "reason_codes", "reason_code",
    "pending_sources", "missing_sources", "withheld_because", "action", "sex", "relation", "disability_type",
    "disability_level", "labor_capacity", "care_level", "preferential_category", "register_status",
    "employment_status", "employment_status_prev", "enrollment_status", "school_stage", "serious_diagnoses",
    "dangerous_house_grade", "support_mode", "rr_category", "rr_risk_eliminated", "source", "department",
    "coverage", "load_status", "method", "severity", "conclusion", "last_conclusion", "kind", "applied_type",
    "draw_scope", "age_band", "disasters", "key_fingerprint", "months",
    "death_month", "last_review_month", "check_month", "last_check_month", "due_month", "overdue_due_month",
}
FREE_TEXT = {
    "data_note", "withheld_note", "file", "ignored_files", "kwargs", "expectation", "rule", "data_docs_page",
    "docs_built_in", "text_value", "requested_by", "rules", "disposition_id", "import_id", "last_answer_id", "sha256",
}

# NFKC for what matters here: full-width ASCII (U+FF01..U+FF5E) and the ideographic space to ASCII;
# then separators and spaces removed, so digits split by them run together again.
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


def normalize_sql(expr: str) -> str:
    full, half = _FULL.replace("'", "''"), _HALF.replace("'", "''")
    return f"regexp_replace(translate({expr}, '{full}', '{half}'), '[\\s\\-_.·•/\\\\,，、:：;；|()（）\\[\\]【】]+', '', 'g')"


def column_expr(table: str, col: str, dtype: str, personal: bool, ref: str) -> tuple[str | None, str]:
    """(SQL expression or None to drop, output name) for a non-key column of `table`."""
    t = TREATMENTS.get(col)
    if t == "drop":
        return None, col
    if t == "diagnosis":
        return f"CASE WHEN nullif(trim({ref}), '') IS NOT NULL THEN '重大疾病' END", col
    if t == "age_band":
        b = f"(CAST({ref} AS BIGINT) // {AGE_STEP} * {AGE_STEP})"
        return f"CASE WHEN {ref} IS NOT NULL THEN lpad(CAST({b} AS VARCHAR), 2, '0') || '-' || lpad(CAST({b} + {AGE_STEP - 1} AS VARCHAR), 2, '0') END", "age_band"
    if dtype == "DATE":
        new = col[:-5] + "_month" if col.endswith("_date") else col + "_month"
        return f"strftime({ref}, '%Y-%m')", new
    if personal and dtype.startswith("DECIMAL") and col not in POLICY_AMOUNTS:
        return f"CAST(floor({ref} / {AMOUNT_STEP}) * {AMOUNT_STEP} AS DECIMAL(18,2))", col
    return ref, col


def vocabulary() -> list[str]:
    """Every value a coded column may hold by contract or catalogue."""
    out = {"城市", "农村", "新增", "持续", "高", "中", "低", "男", "女", "重大疾病", "PENDING"}
    for s in SOURCES:
        try:
            for vals in allowed_values(s).values():
                out.update(vals)
        except Exception:  # a source without a contract file
            continue
    cat = ROOT / "sql" / "seeds" / "alert_catalogue.csv"
    if cat.exists():
        for r in csv.DictReader(open(cat, encoding="utf-8")):
            out.update(v for k, v in r.items() if k in ("alert_type", "alert_name", "base_priority", "action") and v)
    return sorted(out)


# --- k-anonymity -----------------------------------------------------------------------------------
def copy_columns(con) -> dict[str, set[str]]:
    """table -> its columns, of the attached copy `ana`, read once (k-anonymity changes values, not
    columns; each look-up in duckdb_columns() costs milliseconds against a warehouse of many months)."""
    cols: dict[str, set[str]] = {}
    for t, c in con.sql("select table_name, column_name from duckdb_columns() "
                        "where database_name = 'ana' and schema_name = 'main'").fetchall():
        cols.setdefault(t, set()).add(c)
    return cols


def _has(cols: dict[str, set[str]], table: str, col: str) -> bool:
    return col in cols.get(table, ())


def _tables_with(cols: dict[str, set[str]], col: str) -> list[str]:
    return sorted(t for t, cs in cols.items() if col in cs)


def _any(con, table: str) -> bool:
    return bool(con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _count(con, month_sql: str, table: str, column: str, what: str, where: str) -> None:
    """Count the cells about to be set to NULL (table aliased x) in about_this_copy_suppressed."""
    table = table.split()[0]
    con.execute(f"INSERT INTO ana.main.about_this_copy_suppressed SELECT x.month, '{table}', '{column}', '{what}', count(*) "
                f"FROM ana.main.{table} x WHERE {month_sql} AND ({where}) GROUP BY x.month")


def household_levels(con) -> None:
    """TEMP _hh(month, household_key, town_code, size, band, level) for every month of the copy, from
    the copy's own (already banded) households_monthly and determinations. Computed before any
    suppression of the month in scope; older months' rows are read from the TEMP table the update
    rebuilds from the restricted warehouse (see analyst_copy._update), so the levels are the same
    in an update as in a full build."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _hh AS
        WITH h AS (
            SELECT hm.month, hm.household_key, hm.town_code,
                   coalesce(d.household_size, hm.n_listed) AS size, d.per_capita_income AS band
            FROM _hh_src hm LEFT JOIN _det_src d USING (month, household_key)
            WHERE hm.household_key IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY hm.month, hm.household_key ORDER BY hm.town_code) = 1),
        l0 AS (SELECT *, count(*) OVER (PARTITION BY month, town_code, size, band) AS n0 FROM h),
        l1 AS (SELECT *, CASE WHEN n0 >= {K} THEN NULL ELSE count(*) OVER (PARTITION BY month, town_code, size, n0 >= {K}) END AS n1 FROM l0),
        l2 AS (SELECT *, CASE WHEN n0 >= {K} OR n1 >= {K} THEN NULL
                              ELSE count(*) OVER (PARTITION BY month, size, n0 >= {K} OR n1 >= {K}) END AS n2 FROM l1)
        SELECT month, household_key, town_code, size, band,
               CASE WHEN n0 >= {K} THEN 0 WHEN n1 >= {K} THEN 1 WHEN n2 >= {K} THEN 2 ELSE 3 END AS level
        FROM l2""")


def apply_k_anonymity(con, months: list[str], whole: set[str], amount_cols: dict[str, list[str]]) -> None:
    """Steps 1-3 of the module's docstring on the rows of month(s) `months` of the attached copy
    `ana` (every row of the tables in `whole`, which the update rewrites in full). Needs the TEMP
    tables _hh (household_levels), _hm_src and _p_src (analyst_copy._k_sources)."""
    cols = copy_columns(con)
    if not months or not _has(cols, "households_monthly", "household_key"):
        return
    ms = "(" + ", ".join("'" + m.replace("'", "''") + "'" for m in months) + ")"
    in_months = f"month IN {ms}"

    def filt(t: str) -> str:
        return "TRUE" if t in whole else f"x.{in_months}"

    # 1. households
    for t in _tables_with(cols, "household_key"):
        if not _has(cols, t, "month"):
            continue
        f = filt(t)
        low_rows(con, t, f)
        if not _any(con, "_low"):  # no household of the table above level 0: nothing to count or set
            continue
        # (column, what, the level from which its household's rows lose it): amounts from level 1,
        # the town from 2, the household's key at 3
        cells = [(c, "k匿名：家庭金额隐去", 1) for c in amount_cols.get(t, [])]
        cells += [("town_code", "k匿名：乡镇隐去", 2)] if _has(cols, t, "town_code") else []
        cells += [("household_key", "k匿名：家庭假名键隐去", 3)]
        set_null(con, t, cells, "_low")
    # a member of a household that lost its amounts loses their own amounts too (they add up to it)
    if _has(cols, "household_members_monthly", "person_key") and _has(cols, "persons_monthly", "person_key"):
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _pa AS SELECT DISTINCT m.month, m.person_key FROM _hh h
                        JOIN _hm_src m ON m.month = h.month AND m.household_key = h.household_key
                        WHERE h.{in_months} AND h.level >= 1""")
        # their rows of persons_monthly, once (NULLs matched as the (month, person_key) IN of a struct does)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _pa_rows AS SELECT x.rowid AS rid FROM ana.main.persons_monthly x
                        JOIN _pa p ON x.month IS NOT DISTINCT FROM p.month AND x.person_key IS NOT DISTINCT FROM p.person_key
                        WHERE {filt('persons_monthly')}""")
        sel = "rowid IN (SELECT rid FROM _pa_rows)"
        for c in (amount_cols.get("persons_monthly", []) if _any(con, "_pa_rows") else []):
            _count(con, filt("persons_monthly"), "persons_monthly", c, "k匿名：家庭金额隐去", f"{c} IS NOT NULL AND {sel}")
            con.execute(f"UPDATE ana.main.persons_monthly x SET {c} = NULL WHERE {filt('persons_monthly')} AND {c} IS NOT NULL AND {sel}")
        members(con, in_months, cols)
    # 3. rows that point to a household
    rows = {"alerts": (["alert_type", "status", "first_month", "priority", "list_priority", "category", "standard"],
                       ["first_month", "priority", "list_priority"]),
            "resolved_alerts": (["alert_type", "first_month", "last_alert_month", "last_priority", "reason_code", "category_now"],
                                ["first_month", "last_alert_month", "last_priority"]),
            "alert_dispositions": (["alert_type", "conclusion", "check_month"], ["check_month"]),
            "withheld_evaluations": (["alert_type", "missing_sources", "withheld_because"], []),
            "audit_sample": (["roster_type", "applied_type", "draw_rank"], ["draw_rank"])}
    for t, (codes, loose) in rows.items():
        if _has(cols, t, "household_key") and _has(cols, t, "month"):
            rows_pointing_to_households(con, t, [c for c in codes if _has(cols, t, c)],
                                        [c for c in loose if _has(cols, t, c)], filt(t), cols)


def set_null(con, t: str, cells: list[tuple[str, str, int]], rows: str) -> None:
    """Set to NULL, in table `t`, column c of the rows of the TEMP table `rows` (rid, level) whose
    level is at least n, for each (c, what, n) of `cells`; count them first in
    about_this_copy_suppressed under `what`. One count and one UPDATE for the table, not one of
    each per column (a small month's copy had ~100 such statements)."""
    counts = "\nUNION ALL ".join(
        f"SELECT x.month, {sql_literal(t)}, {sql_literal(c)}, {sql_literal(what)}, count(*) FROM ana.main.{t} x JOIN {rows} r ON x.rowid = r.rid "
        f"WHERE x.{c} IS NOT NULL AND r.level >= {n} GROUP BY x.month" for c, what, n in cells)
    con.execute(f"INSERT INTO ana.main.about_this_copy_suppressed {counts}")
    sets = ", ".join(f"{c} = CASE WHEN r.level >= {n} THEN NULL ELSE x.{c} END" for c, _, n in cells)
    con.execute(f"UPDATE ana.main.{t} x SET {sets} FROM {rows} r WHERE x.rowid = r.rid")


def low_rows(con, t: str, f: str) -> None:
    """TEMP _low(rid, level): the rows of `t` (within filter `f`, aliased x) whose household is above
    level 0 in _hh — few, the small classes' — found once per table rather than by a lookup in _hh
    for every row in each of the table's statements. UPDATE keeps a row's rowid."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _low AS SELECT x.rowid AS rid, h.level FROM ana.main.{t} x
                    JOIN _hh h ON h.month = x.month AND h.household_key = x.household_key WHERE {f} AND h.level >= 1""")


def members(con, in_months: str, cols: dict[str, set[str]]) -> None:
    """Step 2: age bands and sex of members, widened then left empty below K."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _mrows AS
        WITH m AS (
            SELECT DISTINCT m.month, m.person_key, h.town_code, h.size, h.band, coalesce(h.level, 3) AS hl,
                   CAST(m.age AS BIGINT) AS age, p.sex
            FROM _hm_src m LEFT JOIN _hh h ON h.month = m.month AND h.household_key = m.household_key
            LEFT JOIN _p_src p ON p.month = m.month AND p.person_key = m.person_key
            WHERE m.{in_months} AND m.person_key IS NOT NULL)
        SELECT month, person_key, CASE WHEN hl >= 3 THEN NULL ELSE size END AS gsize,
               CASE WHEN hl >= 2 THEN NULL ELSE town_code END AS gtown, CASE WHEN hl >= 1 THEN NULL ELSE band END AS gband,
               age // {AGE_STEP} AS a5, CASE WHEN age < 18 THEN 0 WHEN age < 60 THEN 1 ELSE 2 END AS a3, sex FROM m""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _mem AS
        WITH c0 AS (SELECT *, count(DISTINCT person_key) OVER (PARTITION BY month, gtown, gsize, gband, a5, sex) AS n0 FROM _mrows),
        c1 AS (SELECT *, count(DISTINCT person_key) OVER (PARTITION BY month, gtown, gsize, gband, a3, sex, n0 >= {K}) AS n1 FROM c0)
        SELECT month, person_key, max(CASE WHEN n0 >= {K} THEN 0 WHEN n1 >= {K} THEN 1 ELSE 2 END) AS level,
               any_value(a3) AS a3 FROM c1 GROUP BY ALL""")
    # A person listed in two households is in two classes, and one widening applies to both: check
    # the classes as published and suppress whoever is still below K, until none is.
    for _ in range(20):
        n = con.execute(f"""UPDATE _mem SET level = 2 WHERE (month, person_key) IN (
            SELECT (month, person_key) FROM (
                SELECT r.month, r.person_key, count(DISTINCT r.person_key) OVER (PARTITION BY r.month, gtown, gsize, gband,
                       CASE m.level WHEN 0 THEN r.a5 ELSE 100 + r.a3 END, sex) AS k
                FROM _mrows r JOIN _mem m USING (month, person_key) WHERE m.level < 2) WHERE k < {K})""").fetchall()[0][0]
        if not n:
            break
    wide = "CASE a3 WHEN 0 THEN '00-17' WHEN 1 THEN '18-59' ELSE '60+' END"
    for t in ("persons_monthly", "household_members_monthly"):
        if not _has(cols, t, "age_band"):
            continue
        w = f"FROM _mem m WHERE m.month = x.month AND m.person_key = x.person_key"
        _count(con, f"x.{in_months}", f"{t} x", "age_band", "k匿名：年龄段放宽", f"age_band IS NOT NULL AND EXISTS (SELECT 1 {w} AND m.level = 1)")
        _count(con, f"x.{in_months}", f"{t} x", "age_band", "k匿名：年龄段隐去", f"age_band IS NOT NULL AND EXISTS (SELECT 1 {w} AND m.level = 2)")
        con.execute(f"UPDATE ana.main.{t} x SET age_band = CASE m.level WHEN 1 THEN {wide.replace('a3', 'm.a3')} END "
                    f"FROM _mem m WHERE x.{in_months} AND m.month = x.month AND m.person_key = x.person_key AND m.level >= 1")
    if _has(cols, "persons_monthly", "sex"):
        sel = "(x.month, x.person_key) IN (SELECT (month, person_key) FROM _mem WHERE level = 2)"
        _count(con, f"x.{in_months}", "persons_monthly x", "sex", "k匿名：性别隐去", f"sex IS NOT NULL AND {sel}")
        con.execute(f"UPDATE ana.main.persons_monthly x SET sex = NULL WHERE x.{in_months} AND {sel}")


def rows_pointing_to_households(con, t: str, codes: list[str], loose: list[str], f: str, cols: dict[str, set[str]]) -> None:
    """Step 3 for table `t`: classes of (month, codes, household's published town/size/band)."""
    keys = [c for c in ("household_key", "head_person_key", "member_person_key", "alert_key", "overdue_alert_key",
                        "last_alert_key") if _has(cols, t, c)]
    hh = ("CASE WHEN h.level >= 2 THEN NULL ELSE h.town_code END AS g_town, CASE WHEN h.level >= 1 THEN NULL ELSE h.band END AS g_band, "
          "h.size AS g_size")
    part = ["x.month"] + [f"x.{c}" for c in codes] + ["g_town", "g_size", "g_band"]
    tight = ", ".join(part)
    wide = ", ".join(p for p in part if p.split(".")[-1] not in loose)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rows AS
        WITH r AS (SELECT x.rowid AS rid, x.*, {hh} FROM ana.main.{t} x
                   LEFT JOIN _hh h ON h.month = x.month AND h.household_key = x.household_key
                   WHERE {f} AND x.household_key IS NOT NULL),
        c0 AS (SELECT *, count(DISTINCT household_key) OVER (PARTITION BY {tight.replace('x.', '')}) AS n0 FROM r),
        c1 AS (SELECT *, count(DISTINCT household_key) OVER (PARTITION BY {wide.replace('x.', '')}, n0 >= {K}) AS n1 FROM c0)
        SELECT rid, CASE WHEN n0 >= {K} THEN 0 WHEN n1 >= {K} THEN 1 ELSE 2 END AS level FROM c1 WHERE n0 < {K}""")
    if not _any(con, "_rows"):  # every class has K households: nothing to widen or suppress
        return
    # every row of _rows (level 1 or 2) loses its loose codes, a row at level 2 its keys too
    set_null(con, t, [(c, "k匿名：放宽", 1) for c in loose] + [(c, "k匿名：假名键隐去", 2) for c in keys], "_rows")
