-- Finishing every alert (rules.md "Priority", "持续/新增", member-level types):
--   priority 高: TEKUN_CANDIDATE, DIBAO_OMISSION, DECEASED_RECIPIENT, DISASTER_AFFECTED, and
--               RELAPSE_RISK with ≥ 2 shocks or determination DIBAO/TEKUN;
--            中: the other omission, relapse, exit and wrongful-inclusion alerts;
--            低: the rest.
--   status 持续 when the same household, type and member was alerted in M-1 (first month carried
--   over), else 新增 (first month M). alert_id is a digest of the key: stable across reruns.

INSERT INTO stage.alerts BY NAME
WITH prev AS (
    SELECT household_source, household_id, alert_type, coalesce(member_id_number, '') AS member_key, min(first_month) AS first_month
    FROM main.alerts WHERE month = getvariable('prev_month') GROUP BY ALL
)
SELECT getvariable('month') AS month,
       'YJ' || replace(getvariable('month'), '-', '') || '-' ||
           upper(left(sha256(concat_ws('|', getvariable('month'), a.household_source, a.household_id, a.alert_type, coalesce(a.member_id_number, ''))), 8)) AS alert_id,
       a.household_id, a.household_source, a.alert_type, t.alert_name,
       CASE WHEN a.alert_type = 'RELAPSE_RISK' AND (a.relapse_shocks >= 2 OR d.category IN ('DIBAO', 'TEKUN')) THEN '高'
            ELSE t.base_priority END AS priority,
       CASE WHEN a.alert_type = 'RELAPSE_RISK' AND (a.relapse_shocks >= 2 OR d.category IN ('DIBAO', 'TEKUN')) THEN 1
            ELSE CASE t.base_priority WHEN '高' THEN 1 WHEN '中' THEN 2 ELSE 3 END END AS priority_rank,
       CASE WHEN prev.first_month IS NOT NULL THEN '持续' ELSE '新增' END AS status,
       coalesce(prev.first_month, getvariable('month')) AS first_month,
       h.region_code, h.county_code, h.town_code, h.village_code,
       a.member_id_number, a.member_name, a.reasons, a.reason_text, a.evidence, t.action,
       h.n_living AS household_size, f.per_capita_income, f.standard::DECIMAL(18,2) AS standard,
       d.category, h.roster_type, h.head_name, h.head_id_number
FROM alert_hits a
JOIN alert_types t USING (alert_type)
JOIN stage.households_monthly h USING (household_source, household_id)
LEFT JOIN hh_facts f USING (household_source, household_id)
LEFT JOIN stage.determinations d USING (household_source, household_id)
LEFT JOIN prev ON prev.household_source = a.household_source AND prev.household_id = a.household_id
              AND prev.alert_type = a.alert_type AND prev.member_key = coalesce(a.member_id_number, '');
