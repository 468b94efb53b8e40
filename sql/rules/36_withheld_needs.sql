-- reads: months.determinations, hh_facts, alert_types, benefit_roster_only
-- The evaluations of month M withheld for lack of a source the alert type needs (rules.md
-- "Incomplete months: absence of a file is not absence of income"; sql/seeds/alert_catalogue.csv
-- needs_scope, needs_delivered), (a)–(c) and (e) of 38_withheld.sql. The alert hits of these
-- (household, type) are left out of alert_hits (37_alert_hits.sql); none exist for (a): PENDING
-- raises no omission alert.

CREATE OR REPLACE TEMP TABLE withheld_needs AS
SELECT d.household_source, d.household_id, t.alert_type, d.pending_sources AS missing_sources, 'needs' AS withheld_because
FROM months.determinations d CROSS JOIN alert_types t
WHERE d.category = 'PENDING' AND t.needs_scope = 'pending'
UNION ALL
SELECT f.household_source, f.household_id, t.alert_type, array_to_string(undelivered_of(t.needs_delivered), ','), 'needs'
FROM hh_facts f JOIN alert_types t
  ON (t.needs_scope = 'roster_dibao' AND f.roster_type = '低保')
  OR (t.needs_scope = 'roster_urban' AND f.urban_rural = '城市')
WHERE f.n_living > 0 AND f.household_source = 'civil_affairs' AND len(undelivered_of(t.needs_delivered)) > 0
  AND NOT EXISTS (SELECT 1 FROM benefit_roster_only r  -- (e): evaluated on the roster alone
                  WHERE r.household_source = f.household_source AND r.household_id = f.household_id
                    AND r.alert_type = t.alert_type)
UNION ALL
SELECT household_source, household_id, alert_type, 'PRE_EXIT_BENEFIT_UNKNOWN', 'basis_unknown'
FROM benefit_roster_only WHERE basis_unknown;
