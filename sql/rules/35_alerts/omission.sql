-- reads: months.determinations, hh_evidence, hh_facts, member_conditions
-- Omission alerts: households that look eligible but receive nothing (or less than they should).
-- rules.md: TEKUN_CANDIDATE, DIBAO_OMISSION, MARGINAL_OMISSION, EXPENDITURE_HARDSHIP,
-- SINGLE_PERSON_DIBAO (rules-variants.md r3). Seeds: 004 安徽 (对低保边缘家庭中的重度残疾人、重病患者“单人户”纳入低保;
-- 主动发现), 002 哈尔滨 (低保边缘 1.5 倍), 000 高青 / 001 蛟河 (支出型困难、特困).

CREATE OR REPLACE TEMP VIEW alert_hits_omission AS
WITH c AS (
    SELECT d.household_source, d.household_id, d.per_capita_income, d.marginal_line, d.financial_assets_known, m.*
    FROM months.determinations d
    JOIN member_conditions m USING (household_source, household_id)
    WHERE d.category = 'MARGINAL' AND d.roster_type IS DISTINCT FROM '低保' AND d.roster_type IS DISTINCT FROM '特困'
      AND (m.severe_disability OR m.serious_illness_to_m OR m.critical_illness_claim
           OR m.veteran_single_person OR m.preferential_single_person)
)
-- 疑似特困: determination TEKUN, not roster 特困.
SELECT d.household_source, d.household_id, 'TEKUN_CANDIDATE' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'TEKUN' AS reasons,
       '家庭 ' || d.household_size || ' 名在世成员均为 60 岁以上老人、未满 18 周岁或无劳动能力的重度残疾人，且家庭无任何收入，符合特困条件'
       || CASE WHEN d.roster_type IS NOT NULL THEN '，现为' || d.roster_type ELSE '，尚未纳入救助' END AS reason_text,
       e.income_evidence || '；' || e.assets_evidence AS evidence, false AS priority_raised
FROM months.determinations d JOIN hh_evidence e USING (household_source, household_id)
WHERE d.category = 'TEKUN' AND d.roster_type IS DISTINCT FROM '特困'
UNION ALL
-- 疑似漏保（低保）: determination DIBAO, not roster 低保 or 特困.
SELECT d.household_source, d.household_id, 'DIBAO_OMISSION' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'INCOME_BELOW_STANDARD' AS reasons,
       '家庭人均月收入 ' || yuan(d.per_capita_income) || ' 元，低于' || d.urban_rural || '低保标准 ' || yuan(d.standard) || ' 元'
       || CASE WHEN d.roster_type IS NOT NULL THEN '，现仅为' || d.roster_type ELSE '，未纳入低保' END
       || CASE WHEN NOT d.financial_assets_known THEN '（金融资产未申报，需核实）' ELSE '' END AS reason_text,
       e.income_evidence || '；' || e.assets_evidence AS evidence, false AS priority_raised
FROM months.determinations d JOIN hh_evidence e USING (household_source, household_id)
WHERE d.category = 'DIBAO' AND d.roster_type IS DISTINCT FROM '低保' AND d.roster_type IS DISTINCT FROM '特困'
UNION ALL
-- 疑似漏保（低保边缘）: determination MARGINAL, not in roster.
SELECT d.household_source, d.household_id, 'MARGINAL_OMISSION' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'INCOME_BELOW_MARGINAL_LINE' AS reasons,
       '家庭人均月收入 ' || yuan(d.per_capita_income) || ' 元，不低于' || d.urban_rural || '低保标准 ' || yuan(d.standard)
       || ' 元但低于低保边缘标准 ' || yuan(d.marginal_line) || ' 元，未纳入救助'
       || CASE WHEN NOT d.financial_assets_known THEN '（金融资产未申报，需核实）' ELSE '' END AS reason_text,
       e.income_evidence || '；' || e.assets_evidence AS evidence, false AS priority_raised
FROM months.determinations d JOIN hh_evidence e USING (household_source, household_id)
WHERE d.category = 'MARGINAL' AND d.household_source <> 'civil_affairs'
UNION ALL
-- 支出型困难: determination EXPENDITURE, not in roster.
SELECT d.household_source, d.household_id, 'EXPENDITURE_HARDSHIP' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'RIGID_EXPENDITURE' AS reasons,
       '家庭人均月收入 ' || yuan(d.per_capita_income) || ' 元，扣除人均月刚性支出 ' || yuan(d.rigid_expenditure_per_capita)
       || ' 元后低于' || d.urban_rural || '低保标准 ' || yuan(d.standard) || ' 元（收入低于上限 ' || yuan(d.expenditure_ceiling) || ' 元），未纳入救助'
       || CASE WHEN NOT d.financial_assets_known THEN '（金融资产未申报，需核实）' ELSE '' END AS reason_text,
       CASE WHEN delivered('medical_insurance') THEN '医保局：近 12 个月个人自付医疗费用 ' || yuan(f.out_of_pocket_12m) || ' 元'
            ELSE '医保局：本月数据未报送（此前已报送月份个人自付 ' || yuan(f.out_of_pocket_12m) || ' 元）' END
       || CASE WHEN delivered('education') THEN '；教育局：在读学生学年费用扣除资助后 ' || yuan(f.education_net_cost) || ' 元'
               ELSE '；教育局：本月数据未报送' END
       || '；' || e.income_evidence || '；' || e.assets_evidence AS evidence, false AS priority_raised
FROM months.determinations d JOIN hh_evidence e USING (household_source, household_id)
JOIN hh_facts f USING (household_source, household_id)
WHERE d.category = 'EXPENDITURE' AND d.household_source <> 'civil_affairs'
UNION ALL
-- 单人户纳入低保 SINGLE_PERSON_DIBAO (rules-variants.md B.3 r3, in place of rules.md's condition):
-- determination MARGINAL, not roster 低保/特困, and a living member p meeting one of the conditions
-- below (15_member_conditions.sql); each condition that holds is a reason code on p's alert, one
-- alert per member.
--   SEVERE_DISABILITY      p is 重度残疾 (一级/二级; 三级 智力/精神 when the flag is on)
--                          (004:39 「对低保边缘家庭中的重度残疾人、重病患者，采取“单人户”纳入低保」; 002:22)
--   MAJOR_ILLNESS          a 重大疾病 event in any landed month up to M (004:39 重病患者; 002:22 重病人员)
--   CRITICAL_ILLNESS_CLAIM single_person_critical_illness_claim on, and a 大病保险 settlement (002:22 「启动大病保险理赔人员」)
--   VETERAN_DISABILITY     single_person_veteran_max_grade set, 残疾军人等级 ≤ it (002:22 「1-6级残疾军人」)
--   PREFERENTIAL           single_person_preferential on, 定期抚恤补助 是 (002:22 「定期抚恤补助的重点优抚对象」)
SELECT c.household_source, c.household_id, 'SINGLE_PERSON_DIBAO' AS alert_type, c.id_number AS member_id_number, c.name AS member_name,
       concat_ws(',', CASE WHEN c.severe_disability THEN 'SEVERE_DISABILITY' END,
                      CASE WHEN c.serious_illness_to_m THEN 'MAJOR_ILLNESS' END,
                      CASE WHEN c.critical_illness_claim THEN 'CRITICAL_ILLNESS_CLAIM' END,
                      CASE WHEN c.veteran_single_person THEN 'VETERAN_DISABILITY' END,
                      CASE WHEN c.preferential_single_person THEN 'PREFERENTIAL' END) AS reasons,
       c.name || concat_ws('、',
           CASE WHEN c.severe_disability THEN '为' || coalesce(c.disability_type, '') || c.disability_level || '残疾人' END,
           CASE WHEN c.serious_illness_to_m THEN '患重大疾病' END,
           CASE WHEN c.critical_illness_claim THEN '已启动大病保险理赔' END,
           CASE WHEN c.veteran_single_person THEN '为' || c.veteran_grade_name || '残疾军人' END,
           CASE WHEN c.preferential_single_person THEN '为享受定期抚恤补助的重点优抚对象' END)
       || '，所在家庭人均月收入 ' || yuan(c.per_capita_income) || ' 元，低于低保边缘标准 ' || yuan(c.marginal_line)
       || ' 元，可按单人户纳入低保'
       || CASE WHEN NOT c.financial_assets_known THEN '（金融资产未申报，需核实）' ELSE '' END AS reason_text,
       concat_ws('；', CASE WHEN c.disability_level IS NOT NULL THEN '民政局：残疾类别 ' || coalesce(c.disability_type, '—') || '，等级 ' || c.disability_level END,
                       CASE WHEN c.serious_illness_to_m THEN '卫健委：重大疾病 ' || coalesce(c.serious_diagnoses, '') END,
                       CASE WHEN c.critical_illness_claim THEN '医保局：' || strftime(c.latest_claim_date, '%Y-%m-%d')
                            || ' 结算大病保险支付 ' || yuan(c.latest_claim_amount) || ' 元' END,
                       CASE WHEN c.veteran_single_person THEN '民政局：残疾军人等级 ' || c.veteran_grade_name END,
                       CASE WHEN c.preferential_single_person THEN '民政局：定期抚恤补助 是'
                            || coalesce('，优抚对象类别 ' || c.preferential_category, '') END,
                       e.income_evidence, e.assets_evidence) AS evidence, false AS priority_raised
FROM c JOIN hh_evidence e USING (household_source, household_id);
