-- 保障金额异常 BENEFIT_MISMATCH (rules.md; seed 000 高青县: 特困基本生活标准不低于农村低保标准
-- 1.3 倍; 差额救助 and 对重点人员增发 per rules.md's supplement parameters). Roster 低保 not in exit, or 特困: |paid − expected| > max(10, 10% of expected).
--   低保 expected = max(S − pci, min_topup_per_person) · n
--                 + Σ over living members of the single highest supplement rate that applies × S:
--        supplement_severe          一级/二级 disability, a 重大疾病 event in any landed month up to M,
--                                   or aged ≥ 60 and disabled (any level)
--        supplement_multi_disabled  disabled member of a household with ≥ 2 disabled members
--        supplement_elderly_minor   aged ≥ 70 or < 18
--   特困 expected = tekun_multiplier · S · n
-- (max(S − pci, t) · n is computed as max(S·n − income, t·n), exactly.)

CREATE OR REPLACE TEMP TABLE expected_benefit AS
WITH sup AS (
    SELECT hm.household_source, hm.household_id,
           sum(greatest(
               CASE WHEN hm.disability_level IN ('一级', '二级') OR p.serious_illness_to_m OR (hm.age >= 60 AND hm.is_disabled)
                    THEN pr.supplement_severe ELSE 0 END,
               CASE WHEN hm.is_disabled AND f.disabled_living >= 2 THEN pr.supplement_multi_disabled ELSE 0 END,
               CASE WHEN hm.age >= 70 OR hm.age < 18 THEN pr.supplement_elderly_minor ELSE 0 END)) AS supplement_rate_sum,
           count(*) FILTER (WHERE hm.disability_level IN ('一级', '二级') OR p.serious_illness_to_m OR (hm.age >= 60 AND hm.is_disabled)
                               OR (hm.is_disabled AND f.disabled_living >= 2) OR hm.age >= 70 OR hm.age < 18) AS members_with_supplement
    FROM stage.household_members_monthly hm
    JOIN stage.persons_monthly p USING (id_number)
    JOIN hh_facts f USING (household_source, household_id)
    JOIN params pr ON pr.county_code = f.county_code
    WHERE hm.is_living AND hm.household_source = 'civil_affairs'
    GROUP BY ALL
)
SELECT f.household_source, f.household_id, f.roster_type, f.monthly_benefit, f.n_living, f.standard,
       CASE WHEN f.roster_type = '特困' THEN pr.tekun_multiplier * f.standard * f.n_living
            ELSE greatest(f.standard * f.n_living - f.household_income, pr.min_topup_per_person * f.n_living)
                 + coalesce(s.supplement_rate_sum, 0) * f.standard END::DECIMAL(18,2) AS expected_benefit,
       coalesce(s.members_with_supplement, 0) AS members_with_supplement
FROM hh_facts f JOIN params pr ON pr.county_code = f.county_code
LEFT JOIN sup s USING (household_source, household_id)
WHERE f.n_living > 0 AND f.household_source = 'civil_affairs'
  AND ((f.roster_type = '低保' AND NOT f.in_gradual_exit) OR f.roster_type = '特困');

INSERT INTO alert_hits
SELECT b.household_source, b.household_id, 'BENEFIT_MISMATCH', NULL, NULL,
       CASE WHEN b.monthly_benefit > b.expected_benefit THEN 'OVERPAID' ELSE 'UNDERPAID' END,
       b.roster_type || '本月发放 ' || yuan(b.monthly_benefit) || ' 元，按规则测算应为 ' || yuan(b.expected_benefit)
       || ' 元，相差 ' || yuan(abs(b.monthly_benefit - b.expected_benefit)) || ' 元',
       '民政局：月保障金额 ' || yuan(b.monthly_benefit) || ' 元；家庭 ' || b.n_living || ' 人，标准 ' || yuan(b.standard)
       || ' 元，享受分类施保 ' || b.members_with_supplement || ' 人', NULL
FROM expected_benefit b
WHERE abs(b.monthly_benefit - b.expected_benefit) > greatest(10, 0.1 * b.expected_benefit);
