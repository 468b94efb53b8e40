-- reads: withheld_needs, alert_hits, alert_types, main.withheld_evaluations, main.alerts,
--        months.households_monthly
-- Withheld evaluations of month M (rules.md "Incomplete months: absence of a file is not absence
-- of income"). A conclusion that rests on the absence of a record is drawn only when the
-- department that would hold the record delivered its file for M. Which sources each type needs
-- and reads is data: sql/seeds/alert_catalogue.csv (needs_scope, needs_delivered, reads,
-- withheld_when_alive), read into alert_types by 30_alert_setup.sql.
--
--   (a) needs_scope 'pending'       the omission types, for every household whose determination
--                                   is PENDING (sources: those of its SOURCE_NOT_DELIVERED codes)
--   (b) needs_scope 'roster_dibao'  the exit types and BENEFIT_MISMATCH, for roster 低保
--                                   households, when a source of needs_delivered is undelivered
--   (c) needs_scope 'roster_urban'  ZERO_EMPLOYMENT, for roster 城市 households, likewise
--   (d) withheld_when_alive         a key alive for the household (raised in the latest earlier
--                                   month in which its type was evaluated for it) and not raised
--                                   in M is withheld, not resolved, when a source it reads is
--                                   undelivered in M
--   (e) BENEFIT_MISMATCH of a roster 低保 household whose amount is checked on roster data alone
--       (benefit_roster_only, 25_expected_benefit.sql; rules-variants.md r5, r6) is not withheld for
--       an undelivered hr: the amount during gradual exit (r5, gradual_exit_annual_reduction set, in
--       the exit window) and the amount based on the review month's pci (r6, last_review_month,
--       pci known in R). Where r5's pre-exit amount B is unknown the evaluation is withheld with
--       missing_sources PRE_EXIT_BENEFIT_UNKNOWN (withheld_because basis_unknown), whatever was
--       delivered. Every other roster 低保 household keeps the catalogue's rule (needs hr).
-- (a)–(c) and (e) are withheld_needs (36_withheld_needs.sql), whose hits 37_alert_hits.sql leaves
-- out; (d) is withheld_alive below. History for 新增/持续 across gaps (prior_alive) is built here
-- and used by 90_alerts_finish.sql.

-- The latest earlier month in which each (household, type) was evaluated: M-1, or, where the type
-- was withheld for the household in M-1 (and the months before it, without a break), the month
-- before that run of withheld months.
CREATE OR REPLACE TEMP TABLE evaluated_before AS
WITH w AS (
    SELECT household_source, household_id, alert_type, month_index(month) AS idx
    FROM main.withheld_evaluations
    WHERE month < getvariable('month')
), islands AS (
    SELECT household_source, household_id, alert_type, min(idx) AS first_idx, max(idx) AS last_idx
    FROM (SELECT *, idx - row_number() OVER (PARTITION BY household_source, household_id, alert_type ORDER BY idx) AS island FROM w)
    GROUP BY household_source, household_id, alert_type, island
)
SELECT household_source, household_id, alert_type, index_month(first_idx - 1) AS last_evaluated
FROM islands
WHERE last_idx = month_index(getvariable('month')) - 1;

-- Keys alive before M: raised in that latest evaluated month (with their first month).
CREATE OR REPLACE TEMP TABLE prior_alive AS
SELECT a.household_source, a.household_id, a.alert_type, coalesce(a.member_id_number, '') AS member_key,
       min(a.first_month) AS first_month, any_value(a.region_code) AS region_code,
       any_value(a.town_code) AS town_code, any_value(a.member_id_number) AS member_id_number
FROM main.alerts a
WHERE a.month = getvariable('prev_month')
  AND NOT EXISTS (SELECT 1 FROM evaluated_before e
                  WHERE e.household_source = a.household_source AND e.household_id = a.household_id AND e.alert_type = a.alert_type)
GROUP BY ALL
UNION ALL
SELECT a.household_source, a.household_id, a.alert_type, coalesce(a.member_id_number, ''),
       min(a.first_month), any_value(a.region_code), any_value(a.town_code), any_value(a.member_id_number)
FROM main.alerts a JOIN evaluated_before e
  ON e.household_source = a.household_source AND e.household_id = a.household_id
 AND e.alert_type = a.alert_type AND a.month = e.last_evaluated
GROUP BY a.household_source, a.household_id, a.alert_type, coalesce(a.member_id_number, '');

-- (d)
CREATE OR REPLACE TEMP TABLE withheld_alive AS
SELECT DISTINCT p.household_source, p.household_id, p.alert_type, array_to_string(undelivered_of(t.reads), ',') AS missing_sources
FROM prior_alive p JOIN alert_types t USING (alert_type)
WHERE t.withheld_when_alive AND len(undelivered_of(t.reads)) > 0
  AND NOT EXISTS (SELECT 1 FROM alert_hits h
                  WHERE h.household_source = p.household_source AND h.household_id = p.household_id
                    AND h.alert_type = p.alert_type AND coalesce(h.member_id_number, '') = p.member_key);

CREATE OR REPLACE TABLE months.withheld_evaluations AS
WITH w AS (
    SELECT * FROM withheld_needs
    UNION ALL
    SELECT *, 'alive' FROM withheld_alive
        WHERE NOT EXISTS (SELECT 1 FROM withheld_needs n
                          WHERE n.household_source = withheld_alive.household_source AND n.household_id = withheld_alive.household_id
                            AND n.alert_type = withheld_alive.alert_type)
)
SELECT getvariable('month') AS month, w.household_source, w.household_id, w.alert_type, t.alert_name,
       w.missing_sources, w.withheld_because,
       coalesce(h.region_code, p.region_code) AS region_code,
       coalesce(h.town_code, p.town_code, left(p.region_code, 9)) AS town_code,
       coalesce(h.county_code, left(p.region_code, 6)) AS county_code
FROM w JOIN alert_types t USING (alert_type)
LEFT JOIN months.households_monthly h USING (household_source, household_id)
LEFT JOIN (SELECT household_source, household_id, alert_type, any_value(region_code) AS region_code, any_value(town_code) AS town_code
           FROM prior_alive GROUP BY ALL) p USING (household_source, household_id, alert_type);
