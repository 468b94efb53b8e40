-- reads: hh_facts, params, hh_evidence, months.household_members_monthly, months.persons_monthly
-- Households that receive what they no longer qualify for (rules.md WRONGFUL_INCLUSION,
-- DECEASED_RECIPIENT, DUPLICATE_ASSISTANCE; seed 004 安徽: 避免“错保”“漏保”，部门信息比对;
-- seed 001 蛟河: 跨部门核对户籍等信息; seed 002 哈尔滨: 动态管理、退出).
--   WRONGFUL_INCLUSION  roster 低保 with pci ≥ gradual_exit_ceiling_multiplier·S or assets not OK (in exit or not);
--                       roster 特困 with household income before deductions > 0 or assets not OK;
--                       roster 低保边缘 with pci ≥ marginal_multiplier·S or assets not OK
--   DECEASED_RECIPIENT  a roster member dead on or before the end of M still listed (one per member)
--   DUPLICATE_ASSISTANCE a person (living or not) listed in two or more roster households
--                       (one alert per household that lists them)

CREATE OR REPLACE TEMP VIEW alert_hits_wrongful AS
WITH w AS (
    SELECT f.*, p.gradual_exit_ceiling_multiplier, p.marginal_multiplier,
           CASE f.roster_type
               WHEN '低保' THEN f.household_income >= p.gradual_exit_ceiling_multiplier * f.standard * f.n_living
               WHEN '特困' THEN f.income_before_deductions > 0
               WHEN '低保边缘' THEN f.household_income >= p.marginal_multiplier * f.standard * f.n_living
               ELSE false END AS income_over,
           CASE WHEN f.roster_type IN ('低保', '特困', '低保边缘') THEN NOT f.assets_ok ELSE false END AS assets_over
    FROM hh_facts f JOIN params p ON p.county_code = f.county_code
    WHERE f.n_living > 0 AND f.household_source = 'civil_affairs'
),
dup AS (
    SELECT id_number, count(DISTINCT household_id) AS n, string_agg(DISTINCT household_id, '、' ORDER BY household_id) AS households
    FROM months.household_members_monthly WHERE household_source = 'civil_affairs'
    GROUP BY id_number HAVING count(DISTINCT household_id) >= 2
)
SELECT w.household_source, w.household_id, 'WRONGFUL_INCLUSION' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name,
       concat_ws(',', CASE WHEN income_over THEN 'INCOME_OVER' END, CASE WHEN assets_over THEN 'ASSETS_OVER' END) AS reasons,
       w.roster_type || '家庭' || concat_ws('；',
           CASE WHEN income_over AND w.roster_type = '特困' THEN '家庭有收入（' || yuan(w.income_before_deductions) || ' 元/月），不再符合特困“无收入”条件'
                WHEN income_over AND w.roster_type = '低保' THEN '人均月收入 ' || yuan(w.per_capita_income) || ' 元'
                     || CASE WHEN w.income_known THEN '' ELSE '（仅计家庭其他收入，人社局本月未报送）' END || '，已达到低保标准的 '
                     || yuan(w.gradual_exit_ceiling_multiplier) || ' 倍（' || yuan(w.gradual_exit_ceiling_multiplier * w.standard) || ' 元）'
                WHEN income_over THEN '人均月收入 ' || yuan(w.per_capita_income) || ' 元'
                     || CASE WHEN w.income_known THEN '' ELSE '（仅计家庭其他收入，人社局本月未报送）' END
                     || '，已达到低保边缘标准 ' || yuan(w.marginal_multiplier * w.standard) || ' 元' END,
           CASE WHEN assets_over AND NOT w.property_ok THEN '房产 ' || w.property_total || ' 套，超过规定' END,
           CASE WHEN assets_over AND NOT w.financial_assets_ok THEN '人均金融资产 ' || yuan(w.financial_assets / w.n_living)
                || ' 元，超过 ' || yuan(w.asset_limit_per_capita) || ' 元' END) AS reason_text,
       e.income_evidence || '；' || e.assets_evidence AS evidence, false AS priority_raised
FROM w JOIN hh_evidence e USING (household_source, household_id)
WHERE income_over OR assets_over
UNION ALL
SELECT hm.household_source, hm.household_id, 'DECEASED_RECIPIENT' AS alert_type, hm.id_number AS member_id_number, hm.name AS member_name, 'DECEASED' AS reasons,
       hm.name || '已于 ' || coalesce(strftime(p.death_date, '%Y-%m-%d'), getvariable('month') || ' 或之前') || ' 死亡，仍在救助家庭成员名单中' AS reason_text,
       p.death_evidence AS evidence, false AS priority_raised
FROM months.household_members_monthly hm JOIN months.persons_monthly p USING (id_number)
WHERE hm.household_source = 'civil_affairs' AND NOT hm.is_living
UNION ALL
SELECT hm.household_source, hm.household_id, 'DUPLICATE_ASSISTANCE' AS alert_type, hm.id_number AS member_id_number, hm.name AS member_name, 'LISTED_TWICE' AS reasons,
       hm.name || '同时是 ' || dup.n || ' 个救助家庭的成员（家庭编号 ' || dup.households || '）' AS reason_text,
       '民政局：家庭成员名单' AS evidence, false AS priority_raised
FROM months.household_members_monthly hm JOIN dup USING (id_number)
WHERE hm.household_source = 'civil_affairs';
