-- reads: hh_facts, months.household_members_monthly, months.persons_monthly, seeds/alert_catalogue.csv
-- Alert catalogue and shared evidence (rules.md "Alerts"). Each alert family is one model in
-- 35_alerts/ (a view alert_hits_<family>: which household (and member), the reason codes, a
-- plain-Chinese reason and the evidence (which department said what)); 37_alert_hits.sql unions
-- them; 90_alerts_finish.sql adds priority, status, first month, id and suggested action.

-- The alert catalogue is data (sql/seeds/alert_catalogue.csv), read here and by the report:
-- code, 中文, base priority (and the raised one, where a model raises it), member-level, the sources each type needs delivered and reads, the
-- default days to answer. The only place SQL reads the seed; Python reads it in assets/catalogue.py.
CREATE OR REPLACE TEMP TABLE alert_types AS
SELECT alert_type, ord::INTEGER AS ord, alert_name, base_priority, coalesce(raised_priority, '') AS raised_priority,
       member_level::BOOLEAN AS member_level, family,
       coalesce(needs_scope, '') AS needs_scope,
       list_filter(string_split(coalesce(needs_delivered, ''), ';'), lambda s: s <> '') AS needs_delivered,
       list_filter(string_split(coalesce(reads, ''), ';'), lambda s: s <> '') AS reads,
       withheld_when_alive::BOOLEAN AS withheld_when_alive, action,
       CAST(response_days AS INTEGER) AS response_days
FROM read_csv(getvariable('seed_dir') || '/alert_catalogue.csv', header = true, all_varchar = true);

-- Evidence strings shared by several rules: what each department said about income and assets.
CREATE OR REPLACE TEMP TABLE hh_evidence AS
WITH inc AS (
    SELECT hm.household_source, hm.household_id,
           string_agg(hm.name || ' ' ||
               concat_ws('、',
                   CASE WHEN p.monthly_wage > 0 THEN '月工资 ' || yuan(p.monthly_wage) || ' 元' END,
                   CASE WHEN p.monthly_pension > 0 THEN '月养老金 ' || yuan(p.monthly_pension) || ' 元' END,
                   CASE WHEN p.monthly_unemployment_benefit > 0 THEN '月失业保险金 ' || yuan(p.monthly_unemployment_benefit) || ' 元' END),
               '；' ORDER BY hm.id_number) FILTER (WHERE p.person_income > 0) AS income_parts
    FROM months.household_members_monthly hm JOIN months.persons_monthly p USING (id_number)
    WHERE hm.is_living GROUP BY ALL
)
-- An undelivered department is named as such, never as "no record" (rules.md "Incomplete months").
SELECT f.household_source, f.household_id,
       CASE WHEN f.income_known THEN
           '人社局：' || coalesce(inc.income_parts, '无工资、养老金、失业保险金记录') ||
           CASE WHEN f.wage_deductions > 0 THEN '（扣减就业成本 ' || yuan(f.wage_deductions) || ' 元）' ELSE '' END ||
           '；' || CASE f.household_source WHEN 'civil_affairs' THEN '民政局' WHEN 'rural_revitalization' THEN '乡村振兴局' ELSE '（无申报）' END ||
           '：家庭其他月收入 ' || yuan(f.other_income) || ' 元' ||
           CASE WHEN f.support_income_disregarded > 0 THEN '（其中赡养抚养扶养费 ' || yuan(f.support_income_disregarded) || ' 元不计入）' ELSE '' END ||
           '；家庭 ' || f.n_living || ' 人，人均月收入 ' ||
           coalesce(yuan(f.per_capita_income), '—') || ' 元'
       ELSE
           '人社局：本月数据未报送（工资、养老金、失业保险金未知）；' ||
           CASE f.household_source WHEN 'civil_affairs' THEN '民政局' WHEN 'rural_revitalization' THEN '乡村振兴局' ELSE '（无申报）' END ||
           '：家庭其他月收入 ' || yuan(f.other_income) || ' 元' ||
           CASE WHEN f.support_income_disregarded > 0 THEN '（其中赡养抚养扶养费 ' || yuan(f.support_income_disregarded) || ' 元不计入）' ELSE '' END ||
           '；家庭 ' || f.n_living || ' 人'
       END AS income_evidence,
       CASE WHEN NOT f.financial_assets_known THEN '家庭金融资产未申报，需入户核实'
            ELSE '民政局：家庭金融资产 ' || yuan(f.financial_assets) || ' 元（人均上限 ' || yuan(f.asset_limit_per_capita) || ' 元）' END
       || '；住建局：' || CASE WHEN f.properties_known THEN '房产 ' || f.property_total || ' 套' ELSE '本月数据未报送（房产未知）' END AS assets_evidence
FROM hh_facts f LEFT JOIN inc USING (household_source, household_id);
