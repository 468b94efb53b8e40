-- reads: params, months.household_members_monthly, months.households_monthly, months.persons_monthly,
--        main.src_medical_insurance, months.src_medical_insurance
-- Conditions of living members that the single-person and supplement rules share
-- (rules-variants.md B.3 r3, r4, r1; seeds cited per column). One definition, read by
-- 35_alerts/omission.sql (SINGLE_PERSON_DIBAO) and 25_expected_benefit.sql (supplements, care).
--
--   severe_disability          重度残疾 (r3): 残疾等级 一级 or 二级, whatever the type; or, when
--                              severe_disability_level3_intellectual_mental is true, 三级 智力/精神
--                              (002:18 「重度残疾人(含…三级精神或智力残疾人)」; 002:22 「三级智力或精神残疾人」)
--   critical_illness_claim     single_person_critical_illness_claim is true and the person has a
--                              medical_insurance settlement with 大病保险支付 > 0 in any landed month
--                              up to M (002:22 「重病人员(启动大病保险理赔人员…)」); evidence: the latest
--                              such settlement's date and amount
--   veteran_single_person      single_person_veteran_max_grade set and 残疾军人等级 ≤ it (002:22 「1-6级残疾军人」)
--   preferential_single_person single_person_preferential is true and 定期抚恤补助 = 是
--                              (002:22 「定期抚恤补助的重点优抚对象」)
--   veteran_supplement         supplement_veteran_max_grade set and 残疾军人等级 ≤ it (002:18 「含1-4级残疾军人」)
--   care_amount                r1: tekun_care_self / _partial / _full for 护理等级 全自理 / 半护理 / 全护理,
--                              0 when the cell is empty (002:20 照料护理标准 全护理、半护理、全自理 3 个档次)
-- 残疾军人等级 is not a 残疾等级 (rules-variants.md ground rules): it counts only in the columns
-- that name it, never in is_disabled (一户多残, 老残一体, gradual_exit_months_disabled).

SET VARIABLE critical_claim_wanted = (SELECT coalesce(bool_or(single_person_critical_illness_claim), false) FROM params);

-- The latest 大病保险 settlement of each living member, from every landed month up to M (read only
-- when a county of the policy file asks for it).
CREATE OR REPLACE TEMP TABLE critical_illness_claims AS
WITH s AS (
    SELECT id_number, settlement_date, critical_illness_paid FROM main.src_medical_insurance
    WHERE getvariable('critical_claim_wanted') AND month < getvariable('month') AND critical_illness_paid > 0
    UNION ALL
    SELECT id_number, settlement_date, critical_illness_paid FROM months.src_medical_insurance
    WHERE getvariable('critical_claim_wanted') AND month = getvariable('month') AND critical_illness_paid > 0
)
SELECT id_number, max(settlement_date) AS latest_claim_date,
       arg_max(critical_illness_paid, (settlement_date, critical_illness_paid)) AS latest_claim_amount
FROM s
WHERE id_number IN (SELECT id_number FROM months.household_members_monthly WHERE is_living)
GROUP BY id_number;

CREATE OR REPLACE TEMP VIEW member_conditions AS
SELECT hm.household_source, hm.household_id, hm.id_number, hm.name, hm.age, hm.is_disabled,
       hm.disability_type, hm.disability_level, hm.care_level, hm.veteran_disability_grade,
       hm.preferential_category, hm.regular_pension_subsidy,
       coalesce(p.serious_illness_to_m, false) AS serious_illness_to_m, p.serious_diagnoses,
       coalesce(hm.disability_level IN ('一级', '二级')
                OR (pr.severe_disability_level3_intellectual_mental AND hm.disability_level = '三级'
                    AND hm.disability_type IN ('智力', '精神')), false) AS severe_disability,
       coalesce(pr.single_person_critical_illness_claim AND c.id_number IS NOT NULL, false) AS critical_illness_claim,
       c.latest_claim_date, c.latest_claim_amount,
       coalesce(hm.veteran_disability_grade <= pr.single_person_veteran_max_grade, false) AS veteran_single_person,
       coalesce(pr.single_person_preferential AND hm.regular_pension_subsidy, false) AS preferential_single_person,
       coalesce(hm.veteran_disability_grade <= pr.supplement_veteran_max_grade, false) AS veteran_supplement,
       CASE hm.care_level WHEN '全自理' THEN pr.tekun_care_self WHEN '半护理' THEN pr.tekun_care_partial
                          WHEN '全护理' THEN pr.tekun_care_full ELSE 0 END AS care_amount,
       list_extract(['一级', '二级', '三级', '四级', '五级', '六级', '七级', '八级', '九级', '十级'],
                    hm.veteran_disability_grade) AS veteran_grade_name
FROM months.household_members_monthly hm
JOIN months.households_monthly h USING (household_source, household_id)
JOIN params pr ON pr.county_code = h.county_code
LEFT JOIN months.persons_monthly p USING (id_number)
LEFT JOIN critical_illness_claims c USING (id_number)
WHERE hm.is_living;
