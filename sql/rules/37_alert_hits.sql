-- reads: alert_hits_omission, alert_hits_relapse, alert_hits_exit, alert_hits_wrongful,
--        alert_hits_benefit, alert_hits_life, alert_hits_review, withheld_needs
-- Every alert hit of month M, in one place: the union of the alert families, one model each in
-- 35_alerts/<family>.sql (a view alert_hits_<family>; family = the `family` column of
-- sql/seeds/alert_catalogue.csv, tests/pipeline/test_sql_models.py checks that the two lists agree), less
-- the (household, type) evaluations withheld for lack of a source the type needs
-- (36_withheld_needs.sql; rules.md "Incomplete months").
--   household_source, household_id   the household alerted
--   alert_type                       a code of the catalogue
--   member_id_number, member_name    the member, for a member-level type (catalogue member_level)
--   reasons                          reason codes, comma-separated
--   reason_text, evidence            the plain-Chinese reason and which department said what
--   priority_raised                  the hit has the catalogue's raised_priority, not its
--                                    base_priority (RELAPSE_RISK: ≥ 2 shocks or DIBAO/TEKUN)

CREATE OR REPLACE TEMP TABLE alert_hits AS
WITH hits AS (
    SELECT * FROM alert_hits_omission
    UNION ALL BY NAME SELECT * FROM alert_hits_relapse
    UNION ALL BY NAME SELECT * FROM alert_hits_exit
    UNION ALL BY NAME SELECT * FROM alert_hits_wrongful
    UNION ALL BY NAME SELECT * FROM alert_hits_benefit
    UNION ALL BY NAME SELECT * FROM alert_hits_life
    UNION ALL BY NAME SELECT * FROM alert_hits_review
)
SELECT household_source::VARCHAR AS household_source, household_id::VARCHAR AS household_id,
       alert_type::VARCHAR AS alert_type, member_id_number::VARCHAR AS member_id_number,
       member_name::VARCHAR AS member_name, reasons::VARCHAR AS reasons, reason_text::VARCHAR AS reason_text,
       evidence::VARCHAR AS evidence, priority_raised::BOOLEAN AS priority_raised
FROM hits h
WHERE NOT EXISTS (SELECT 1 FROM withheld_needs w
                  WHERE w.household_source = h.household_source AND w.household_id = h.household_id
                    AND w.alert_type = h.alert_type);
