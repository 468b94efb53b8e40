-- reads: (nothing)
-- Expressions written once, used by the rules (sql/rules/) and the metrics (sql/metrics/).

-- An amount in yuan as the staff lists print it: two decimals at most, trailing zeros dropped.
CREATE OR REPLACE TEMP MACRO yuan(x) AS regexp_replace(printf('%.2f', x), '\.?0+$', '');

-- Months as numbers, for counting months between two YYYY-MM (gradual exit, withheld runs).
CREATE OR REPLACE TEMP MACRO month_index(m) AS CAST(left(m, 4) AS INTEGER) * 12 + CAST(right(m, 2) AS INTEGER) - 1;
CREATE OR REPLACE TEMP MACRO index_month(i) AS printf('%04d-%02d', i // 12, i % 12 + 1);

-- A source's file for M counts as delivered: accepted, and a header without rows or at least one
-- row accepted (sql/rules/05_coverage.sql).
CREATE OR REPLACE TEMP MACRO is_delivered(status, rows_in, rows_accepted, rows_duplicate) AS
    status = 'accepted' AND (rows_in = 0 OR rows_accepted - coalesce(rows_duplicate, 0) > 0);

-- Whether source s was delivered in M, and the sources of a list (e.g. ['hr', 'housing']) that are
-- undelivered in M, sorted: the variable undelivered_sources is set by sql/rules/05_coverage.sql.
CREATE OR REPLACE TEMP MACRO delivered(s) AS NOT list_contains(getvariable('undelivered_sources'), s);
CREATE OR REPLACE TEMP MACRO undelivered_of(sources) AS
    list_sort(list_filter(sources, lambda s: list_contains(getvariable('undelivered_sources'), s)));

-- The base monthly entitlement (rules.md "Expected benefit", without the 分类施保 supplements and
-- the 特困 care amounts), for a household of n living members under standard S:
--   低保  max(S − pci, min_topup_per_person) · n, computed as max(S·n − income, min_topup·n) so
--         that it is exact (income = the household income, or pci · n for a per-capita basis)
--   特困  t · S · n (t: the 特困 multiplier that applies)
-- Read by sql/rules/25_expected_benefit.sql (BENEFIT_MISMATCH) and sql/metrics/10_targeting.sql.
CREATE OR REPLACE TEMP MACRO dibao_entitlement(standard, n, income, min_topup) AS
    greatest(standard * n - income, min_topup * n);
CREATE OR REPLACE TEMP MACRO tekun_entitlement(multiplier, standard, n) AS multiplier * standard * n;
