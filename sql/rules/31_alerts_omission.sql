-- Omission alerts: households that look eligible but receive nothing (or less than they should).
-- rules.md: TEKUN_CANDIDATE, DIBAO_OMISSION, MARGINAL_OMISSION, EXPENDITURE_HARDSHIP,
-- SINGLE_PERSON_DIBAO. Seeds: 004 安徽 (对低保边缘家庭中的重度残疾人、重病患者“单人户”纳入低保;
-- 主动发现), 002 哈尔滨 (低保边缘 1.5 倍), 000 高青 / 001 蛟河 (支出型困难、特困).

-- 疑似特困: determination TEKUN, not roster 特困.
INSERT INTO alert_hits
SELECT d.household_source, d.household_id, 'TEKUN_CANDIDATE', NULL, NULL, 'TEKUN',
       '家庭 ' || d.household_size || ' 名在世成员均为 60 岁以上老人、未满 18 周岁或无劳动能力的重度残疾人，且家庭无任何收入，符合特困条件'
       || CASE WHEN d.roster_type IS NOT NULL THEN '，现为' || d.roster_type ELSE '，尚未纳入救助' END,
       e.income_evidence || '；' || e.assets_evidence, NULL
FROM stage.determinations d JOIN hh_evidence e USING (household_source, household_id)
WHERE d.category = 'TEKUN' AND d.roster_type IS DISTINCT FROM '特困';

-- 疑似漏保（低保）: determination DIBAO, not roster 低保 or 特困.
INSERT INTO alert_hits
SELECT d.household_source, d.household_id, 'DIBAO_OMISSION', NULL, NULL, 'INCOME_BELOW_STANDARD',
       '家庭人均月收入 ' || yuan(d.per_capita_income) || ' 元，低于' || d.urban_rural || '低保标准 ' || yuan(d.standard) || ' 元'
       || CASE WHEN d.roster_type IS NOT NULL THEN '，现仅为' || d.roster_type ELSE '，未纳入低保' END
       || CASE WHEN NOT d.financial_assets_known THEN '（金融资产未申报，需核实）' ELSE '' END,
       e.income_evidence || '；' || e.assets_evidence, NULL
FROM stage.determinations d JOIN hh_evidence e USING (household_source, household_id)
WHERE d.category = 'DIBAO' AND d.roster_type IS DISTINCT FROM '低保' AND d.roster_type IS DISTINCT FROM '特困';

-- 疑似漏保（低保边缘）: determination MARGINAL, not in roster.
INSERT INTO alert_hits
SELECT d.household_source, d.household_id, 'MARGINAL_OMISSION', NULL, NULL, 'INCOME_BELOW_MARGINAL_LINE',
       '家庭人均月收入 ' || yuan(d.per_capita_income) || ' 元，不低于' || d.urban_rural || '低保标准 ' || yuan(d.standard)
       || ' 元但低于低保边缘标准 ' || yuan(d.marginal_line) || ' 元，未纳入救助'
       || CASE WHEN NOT d.financial_assets_known THEN '（金融资产未申报，需核实）' ELSE '' END,
       e.income_evidence || '；' || e.assets_evidence, NULL
FROM stage.determinations d JOIN hh_evidence e USING (household_source, household_id)
WHERE d.category = 'MARGINAL' AND d.household_source <> 'civil_affairs';

-- 支出型困难: determination EXPENDITURE, not in roster.
INSERT INTO alert_hits
SELECT d.household_source, d.household_id, 'EXPENDITURE_HARDSHIP', NULL, NULL, 'RIGID_EXPENDITURE',
       '家庭人均月收入 ' || yuan(d.per_capita_income) || ' 元，扣除人均月刚性支出 ' || yuan(d.rigid_expenditure_per_capita)
       || ' 元后低于' || d.urban_rural || '低保标准 ' || yuan(d.standard) || ' 元（收入低于上限 ' || yuan(d.expenditure_ceiling) || ' 元），未纳入救助'
       || CASE WHEN NOT d.financial_assets_known THEN '（金融资产未申报，需核实）' ELSE '' END,
       CASE WHEN delivered('medical_insurance') THEN '医保局：近 12 个月个人自付医疗费用 ' || yuan(f.out_of_pocket_12m) || ' 元'
            ELSE '医保局：本月数据未报送（此前已报送月份个人自付 ' || yuan(f.out_of_pocket_12m) || ' 元）' END
       || CASE WHEN delivered('education') THEN '；教育局：在读学生学年费用扣除资助后 ' || yuan(f.education_net_cost) || ' 元'
               ELSE '；教育局：本月数据未报送' END
       || '；' || e.income_evidence || '；' || e.assets_evidence, NULL
FROM stage.determinations d JOIN hh_evidence e USING (household_source, household_id)
JOIN hh_facts f USING (household_source, household_id)
WHERE d.category = 'EXPENDITURE' AND d.household_source <> 'civil_affairs';

-- 单人户纳入低保: determination MARGINAL, not roster 低保/特困, one alert per living member with a
-- 一级/二级 disability or a 重大疾病 event in any landed month up to M.
INSERT INTO alert_hits
SELECT d.household_source, d.household_id, 'SINGLE_PERSON_DIBAO', hm.id_number, hm.name,
       concat_ws(',', CASE WHEN hm.disability_level IN ('一级', '二级') THEN 'SEVERE_DISABILITY' END,
                      CASE WHEN p.serious_illness_to_m THEN 'SERIOUS_ILLNESS' END),
       hm.name || CASE WHEN hm.disability_level IN ('一级', '二级') THEN '为' || coalesce(hm.disability_type, '') || hm.disability_level || '残疾人'
                       ELSE '患重大疾病' END
       || '，所在家庭人均月收入 ' || yuan(d.per_capita_income) || ' 元，低于低保边缘标准 ' || yuan(d.marginal_line)
       || ' 元，可按单人户纳入低保'
       || CASE WHEN NOT d.financial_assets_known THEN '（金融资产未申报，需核实）' ELSE '' END,
       concat_ws('；', CASE WHEN hm.disability_level IS NOT NULL THEN '民政局：残疾类别 ' || coalesce(hm.disability_type, '—') || '，等级 ' || hm.disability_level END,
                       CASE WHEN p.serious_illness_to_m THEN '卫健委：重大疾病 ' || coalesce(p.serious_diagnoses, '') END,
                       e.income_evidence, e.assets_evidence), NULL
FROM stage.determinations d
JOIN stage.household_members_monthly hm USING (household_source, household_id)
JOIN stage.persons_monthly p USING (id_number)
JOIN hh_evidence e USING (household_source, household_id)
WHERE d.category = 'MARGINAL' AND d.roster_type IS DISTINCT FROM '低保' AND d.roster_type IS DISTINCT FROM '特困'
  AND hm.is_living AND (hm.disability_level IN ('一级', '二级') OR p.serious_illness_to_m);
