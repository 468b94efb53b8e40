-- reads: params, hh_facts, member_conditions, published_determinations, main.load_log,
--        main.src_civil_affairs_households
-- The expected benefit that 保障金额异常 BENEFIT_MISMATCH compares with the amount paid (the alert:
-- 35_alerts/benefit.sql) (rules.md; rules-variants.md B.3 r1, r4, r5, r6). Roster 低保 not in
-- exit, or 特困: |paid − expected| > max(10, 10 % of expected); roster 低保 in exit (r5, only when
-- gradual_exit_annual_reduction is set): |paid − expected_exit| > max(10, 10 % of expected_exit).
--
-- r1 特困 expected = t · S · n + Σ care(p) over the living members p
--      t = tekun_multiplier_centralized if set and 供养方式 = 集中供养 (001:40 「分散和集中供养特困人员
--          基本生活标准分别按照不低于当地低保标准的 1.3 倍和 2 倍确定」); otherwise tekun_multiplier_urban
--          (城市) or tekun_multiplier_rural (农村) if set (000:19 「不低于城市低保标准1.5倍、农村低保标准
--          1.3倍」); otherwise tekun_multiplier. 供养方式 counts only for 特困 households.
--      care(p) = tekun_care_self / _partial / _full by 护理等级 全自理 / 半护理 / 全护理, 0 when empty
--          (002:20 「照料护理标准分为全护理、半护理、全自理3个档次」; no seed gives amounts: default 0)
-- r4 低保 not in exit: max(S − pci*, min_topup_per_person) · n + Σ over living members of S × the
--      highest rate among the groups the member is in (never two; 001:48 「按最高比例增发补助金，
--      不重复增发」; 002:18 「同时符合两种以上身份的只加发一次」):
--        supplement_severe          重度残疾 (15_member_conditions.sql), 残疾军人等级 ≤
--                                   supplement_veteran_max_grade (002:18 「含1-4级残疾军人」), a 重大疾病
--                                   event in any landed month up to M, or age ≥ supplement_elderly_disabled_age
--                                   with any 残疾等级 (老残一体, 001:48; null = no such group)
--        supplement_multi_disabled  a 残疾等级, and ≥ 2 living members with one (001:48 一户多残)
--        supplement_elderly_minor   age ≥ supplement_elderly_age or < supplement_minor_age (001:48
--                                   「70 周岁以上老年人和未成年人」)
--        supplement_preferential    a non-empty 优抚对象类别 (002:18 「军属、烈士遗属、因公牺牲军人遗属、
--                                   病故军人遗属、在乡老复员军人」)
-- r6 pci* = pci of M (dibao_benefit_basis current_month, 001:36 「及时调整救助项目和额度」), or with
--      last_review_month the per_capita_income of the determination of R = the month of 上次核查日期,
--      when R < M, the run of R determined the household and 人社局 delivered in R (002:26
--      「复核期内家庭经济状况没有明显变化的低保家庭,不再调整救助水平」); n, S, supplements, topup of M.
--      pci* from R: BENEFIT_MISMATCH no longer needs hr delivered in M (benefit_roster_only, read by
--      36_withheld_needs.sql); the evidence names R.
-- r5 roster 低保 in exit, m = months from 渐退开始月份 to M, L = gradual_exit_months (or _disabled with
--      a living member with any 残疾等级), when 0 ≤ m < L (001:50 「残疾人低保家庭可继续享受24个月低保待遇，
--      渐退期间低保补助金逐年递减，年度递减幅度为25%」):
--        expected_exit = B · max(0, 1 − r · (floor(m / 12) + gradual_exit_reduction_offset)), no rounding
--        B = 渐退前月保障金额 of M's roster row; else the household's 月保障金额 in the roster of the
--            month before 渐退开始月份 (delivered, whatever its 救助类别 there); else unknown: the check
--            is withheld as PRE_EXIT_BENEFIT_UNKNOWN (36_withheld_needs.sql)
--      Reason code GRADUAL_EXIT_AMOUNT. Roster data only: no other source needs to be delivered in M.
-- (max(S − pci, t) · n is computed as max(S·n − income, t·n), exactly: dibao_entitlement of
-- sql/shared/00_macros.sql, shared with the metrics.)

-- r4: the groups of each living member of a roster 低保 household not in exit, and the rate paid
CREATE OR REPLACE TEMP TABLE member_supplements AS
WITH g AS (
    SELECT m.household_source, m.household_id, m.id_number, pr.county_code,
           (m.severe_disability OR m.veteran_supplement OR m.serious_illness_to_m
            OR coalesce(m.age >= pr.supplement_elderly_disabled_age AND m.is_disabled, false)) AS g_severe,
           (m.is_disabled AND f.disabled_living >= 2) AS g_multi_disabled,
           coalesce(m.age >= pr.supplement_elderly_age OR m.age < pr.supplement_minor_age, false) AS g_elderly_minor,
           m.preferential_category IS NOT NULL AS g_preferential
    FROM member_conditions m
    JOIN hh_facts f USING (household_source, household_id)
    JOIN params pr ON pr.county_code = f.county_code
    WHERE f.household_source = 'civil_affairs' AND f.roster_type = '低保' AND NOT f.in_gradual_exit
)
SELECT g.*,
       greatest(CASE WHEN g_severe THEN pr.supplement_severe ELSE 0 END,
                CASE WHEN g_multi_disabled THEN pr.supplement_multi_disabled ELSE 0 END,
                CASE WHEN g_elderly_minor THEN pr.supplement_elderly_minor ELSE 0 END,
                CASE WHEN g_preferential THEN pr.supplement_preferential ELSE 0 END) AS supplement_rate
FROM g JOIN params pr USING (county_code);

-- r6: the review month's per-capita income, where the policy bases the 低保 amount on it
CREATE OR REPLACE TEMP TABLE review_basis AS
WITH r AS (
    SELECT f.household_source, f.household_id, strftime(f.last_review_date, '%Y-%m') AS review_month
    FROM hh_facts f JOIN params pr ON pr.county_code = f.county_code
    WHERE pr.dibao_benefit_basis = 'last_review_month' AND f.n_living > 0 AND f.household_source = 'civil_affairs'
      AND f.roster_type = '低保' AND NOT f.in_gradual_exit AND f.last_review_date IS NOT NULL
)
SELECT r.household_source, r.household_id, r.review_month, d.per_capita_income AS review_pci
FROM r JOIN published_determinations d  -- main.determinations (assets/rules.py: empty before the first publish)
  ON d.month = r.review_month AND d.household_source = r.household_source AND d.household_id = r.household_id
WHERE r.review_month < getvariable('month') AND d.per_capita_income IS NOT NULL
  AND EXISTS (SELECT 1 FROM main.load_log l
              WHERE l.month = r.review_month AND l.source = 'hr'
                AND is_delivered(l.status, l.rows_in, l.rows_accepted, l.rows_duplicate));

-- r1, r4, r6: expected amount of roster 低保 not in exit and 特困
CREATE OR REPLACE TEMP TABLE expected_benefit AS
WITH sup AS (
    SELECT household_source, household_id, sum(supplement_rate) AS supplement_rate_sum,
           count(*) FILTER (WHERE supplement_rate > 0) AS members_with_supplement
    FROM member_supplements GROUP BY ALL
), care AS (
    SELECT household_source, household_id, sum(care_amount) AS care_total,
           count(*) FILTER (WHERE care_amount > 0) AS members_with_care
    FROM member_conditions WHERE household_source = 'civil_affairs' GROUP BY ALL
), t AS (
    SELECT f.household_source, f.household_id,
           CASE WHEN pr.tekun_multiplier_centralized IS NOT NULL AND f.support_mode = '集中供养' THEN pr.tekun_multiplier_centralized
                WHEN f.urban_rural = '城市' THEN coalesce(pr.tekun_multiplier_urban, pr.tekun_multiplier)
                ELSE coalesce(pr.tekun_multiplier_rural, pr.tekun_multiplier) END AS tekun_multiplier_used,
           CASE WHEN pr.tekun_multiplier_centralized IS NOT NULL AND f.support_mode = '集中供养' THEN '集中供养'
                WHEN f.urban_rural = '城市' AND pr.tekun_multiplier_urban IS NOT NULL THEN '城市'
                WHEN f.urban_rural <> '城市' AND pr.tekun_multiplier_rural IS NOT NULL THEN '农村' END AS tekun_multiplier_basis
    FROM hh_facts f JOIN params pr ON pr.county_code = f.county_code
    WHERE f.household_source = 'civil_affairs' AND f.roster_type = '特困'
)
SELECT f.household_source, f.household_id, f.roster_type, f.monthly_benefit, f.n_living, f.standard,
       CASE WHEN f.roster_type = '特困' THEN tekun_entitlement(t.tekun_multiplier_used, f.standard, f.n_living) + coalesce(c.care_total, 0)
            WHEN rb.review_pci IS NOT NULL
                 THEN dibao_entitlement(f.standard, f.n_living, rb.review_pci * f.n_living, pr.min_topup_per_person)
                      + coalesce(s.supplement_rate_sum, 0) * f.standard
            ELSE dibao_entitlement(f.standard, f.n_living, f.household_income, pr.min_topup_per_person)
                 + coalesce(s.supplement_rate_sum, 0) * f.standard END::DECIMAL(18,2) AS expected_benefit,
       coalesce(s.members_with_supplement, 0) AS members_with_supplement,
       t.tekun_multiplier_used, t.tekun_multiplier_basis,
       CASE WHEN f.roster_type = '特困' THEN coalesce(c.care_total, 0) END AS care_total,
       CASE WHEN f.roster_type = '特困' THEN coalesce(c.members_with_care, 0) END AS members_with_care,
       rb.review_month, rb.review_pci
FROM hh_facts f JOIN params pr ON pr.county_code = f.county_code
LEFT JOIN sup s USING (household_source, household_id)
LEFT JOIN care c USING (household_source, household_id)
LEFT JOIN t USING (household_source, household_id)
LEFT JOIN review_basis rb USING (household_source, household_id)
WHERE f.n_living > 0 AND f.household_source = 'civil_affairs'
  AND ((f.roster_type = '低保' AND NOT f.in_gradual_exit) OR f.roster_type = '特困');

-- r5: expected amount during gradual exit (only where gradual_exit_annual_reduction is set, 0 ≤ m < L)
CREATE OR REPLACE TEMP TABLE exit_amount AS
WITH x AS (
    SELECT f.household_source, f.household_id, f.gradual_exit_since, f.monthly_benefit, f.pre_exit_benefit,
           f.disabled_living, pr.gradual_exit_annual_reduction AS reduction, pr.gradual_exit_reduction_offset AS reduction_offset,
           month_index(getvariable('month')) - month_index(f.gradual_exit_since) AS exit_months,
           CASE WHEN f.disabled_living > 0 THEN pr.gradual_exit_months_disabled ELSE pr.gradual_exit_months END AS exit_limit,
           index_month(month_index(f.gradual_exit_since) - 1) AS pre_exit_month
    FROM hh_facts f JOIN params pr ON pr.county_code = f.county_code
    WHERE f.n_living > 0 AND f.household_source = 'civil_affairs' AND f.roster_type = '低保' AND f.in_gradual_exit
      AND pr.gradual_exit_annual_reduction IS NOT NULL
), before_exit AS (  -- the roster of the month before exit, where it was delivered and lists the household
    SELECT s.household_id, arg_min(s.monthly_benefit, s.row_number) AS benefit_before_exit
    FROM main.src_civil_affairs_households s JOIN x ON s.month = x.pre_exit_month AND s.household_id = x.household_id
    GROUP BY s.household_id
)
SELECT x.*, coalesce(x.pre_exit_benefit, b.benefit_before_exit) AS pre_exit_amount,
       CASE WHEN x.pre_exit_benefit IS NOT NULL THEN '民政局：渐退前月保障金额 ' || yuan(x.pre_exit_benefit) || ' 元'
            WHEN b.benefit_before_exit IS NOT NULL THEN '民政局：' || x.pre_exit_month || ' 台账月保障金额 ' || yuan(b.benefit_before_exit) || ' 元（渐退前一月）'
       END AS pre_exit_evidence,
       x.exit_months // 12 AS exit_year,
       coalesce(x.pre_exit_benefit, b.benefit_before_exit)
           * greatest(0, 1 - x.reduction * (x.exit_months // 12 + x.reduction_offset)) AS expected_exit
FROM x LEFT JOIN before_exit b USING (household_id)
WHERE x.exit_months >= 0 AND x.exit_months < x.exit_limit;

-- The BENEFIT_MISMATCH evaluations that rest on the roster only and so need no source delivered
-- in M (read by 36_withheld_needs.sql): r6 with pci* from R, r5 in its window. basis_unknown: r5 with B
-- unknown, withheld as PRE_EXIT_BENEFIT_UNKNOWN.
CREATE OR REPLACE TEMP TABLE benefit_roster_only AS
SELECT household_source, household_id, 'BENEFIT_MISMATCH' AS alert_type, false AS basis_unknown
FROM expected_benefit WHERE review_pci IS NOT NULL
UNION ALL
SELECT household_source, household_id, 'BENEFIT_MISMATCH', pre_exit_amount IS NULL FROM exit_amount;
