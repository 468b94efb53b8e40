-- reads: alert_hits, alert_types, hh_facts, month_data_note, prior_alive, source_catalogue,
--        months.determinations, months.household_members_monthly, months.households_monthly, months.quarantine
-- Finishing every alert (rules.md "Priority", "持续/新增", member-level types):
--   priority 高: TEKUN_CANDIDATE, DIBAO_OMISSION, DECEASED_RECIPIENT, DISASTER_AFFECTED, and
--               RELAPSE_RISK with ≥ 2 shocks or determination DIBAO/TEKUN;
--            中: the other omission, relapse, exit and wrongful-inclusion alerts;
--            低: the rest. The catalogue (sql/seeds/alert_catalogue.csv) gives each type its
--               base_priority, and its raised_priority for a hit its model marks priority_raised
--               (RELAPSE_RISK: 35_alerts/relapse.sql).
--   status 持续 when the same household, type and member was alerted in the latest earlier month
--   in which that type was evaluated for the household (M-1, or before a run of months in which it
--   was withheld: rules.md "Incomplete months"; prior_alive of 38_withheld.sql), the first month
--   carried over; else 新增 (first month M). alert_id is a digest of the key: stable across reruns.
--   Evidence: where a member's row in a source the alert reads was quarantined this month, the
--   evidence says so (department and reason), so that the caseworker knows that fact is uncertain.
--   data_note: the month's 数据说明 (empty when every source was delivered).

CREATE OR REPLACE TEMP TABLE quarantine_notes AS
WITH q AS (
    SELECT DISTINCT a.household_source, a.household_id, a.alert_type, coalesce(a.member_id_number, '') AS member_key,
           c.ord, c.department, hm.name, hm.id_number,
           left(CASE WHEN strpos(q.reason, '：') > 0 THEN substr(q.reason, strpos(q.reason, '：') + 1) ELSE q.reason END, 60) AS why
    FROM alert_hits a
    JOIN alert_types t USING (alert_type)
    JOIN months.household_members_monthly hm USING (household_source, household_id)
    JOIN months.quarantine q ON q.month = getvariable('month') AND q.id_number = hm.id_number AND list_contains(t.reads, q.source)
    JOIN source_catalogue c ON c.source = q.source
)
SELECT household_source, household_id, alert_type, member_key,
       '注意：' || string_agg(department || '本月有 ' || name || ' 的记录未通过校验（' || why || '），相关事实待核实', '；'
                              ORDER BY ord, id_number, why) AS note
FROM q GROUP BY ALL;

INSERT INTO months.alerts BY NAME
SELECT getvariable('month') AS month,
       'YJ' || replace(getvariable('month'), '-', '') || '-' ||
           upper(left(sha256(concat_ws('|', getvariable('month'), a.household_source, a.household_id, a.alert_type, coalesce(a.member_id_number, ''))), 8)) AS alert_id,
       a.household_id, a.household_source, a.alert_type, t.alert_name,
       p.priority,
       CASE p.priority WHEN '高' THEN 1 WHEN '中' THEN 2 ELSE 3 END AS priority_rank,
       CASE WHEN prev.first_month IS NOT NULL THEN '持续' ELSE '新增' END AS status,
       coalesce(prev.first_month, getvariable('month')) AS first_month,
       h.region_code, h.county_code, h.town_code, h.village_code,
       a.member_id_number, a.member_name, a.reasons, a.reason_text,
       concat_ws('；', a.evidence, qn.note) AS evidence, t.action,
       h.n_living AS household_size, CASE WHEN f.income_known THEN f.per_capita_income END AS per_capita_income, f.standard::DECIMAL(18,2) AS standard,
       d.category, h.roster_type, h.head_name, h.head_id_number,
       (SELECT data_note FROM month_data_note) AS data_note
FROM alert_hits a
JOIN alert_types t USING (alert_type)
CROSS JOIN LATERAL (SELECT CASE WHEN a.priority_raised AND t.raised_priority <> '' THEN t.raised_priority
                                ELSE t.base_priority END AS priority) p
JOIN months.households_monthly h USING (household_source, household_id)
LEFT JOIN hh_facts f USING (household_source, household_id)
LEFT JOIN months.determinations d USING (household_source, household_id)
LEFT JOIN prior_alive prev ON prev.household_source = a.household_source AND prev.household_id = a.household_id
              AND prev.alert_type = a.alert_type AND prev.member_key = coalesce(a.member_id_number, '')
LEFT JOIN quarantine_notes qn ON qn.household_source = a.household_source AND qn.household_id = a.household_id
              AND qn.alert_type = a.alert_type AND qn.member_key = coalesce(a.member_id_number, '');
