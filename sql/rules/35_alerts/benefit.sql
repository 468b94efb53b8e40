-- reads: expected_benefit, exit_amount
-- 保障金额异常 BENEFIT_MISMATCH (rules.md; rules-variants.md B.3 r1, r4, r5, r6): the amount paid
-- against the expected amount of 25_expected_benefit.sql (r1 特困, r4 低保 with supplements, r6 on
-- the review month's pci; r5 during gradual exit, where set).
--   OVERPAID / UNDERPAID  roster 低保 not in exit, or 特困: |paid − expected| > max(10, 10 % of expected)
--   GRADUAL_EXIT_AMOUNT   roster 低保 in exit (r5): |paid − expected_exit| > max(10, 10 % of expected_exit)

CREATE OR REPLACE TEMP VIEW alert_hits_benefit AS
SELECT b.household_source, b.household_id, 'BENEFIT_MISMATCH' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name,
       CASE WHEN b.monthly_benefit > b.expected_benefit THEN 'OVERPAID' ELSE 'UNDERPAID' END AS reasons,
       b.roster_type || '本月发放 ' || yuan(b.monthly_benefit) || ' 元，按规则测算应为 ' || yuan(b.expected_benefit)
       || ' 元，相差 ' || yuan(abs(b.monthly_benefit - b.expected_benefit)) || ' 元'
       || CASE WHEN b.review_month IS NOT NULL THEN '（按 ' || b.review_month || ' 核查时人均月收入 ' || yuan(b.review_pci)
                    || ' 元测算，复核期内不调整救助水平）' ELSE '' END AS reason_text,
       '民政局：月保障金额 ' || yuan(b.monthly_benefit) || ' 元；家庭 ' || b.n_living || ' 人，标准 ' || yuan(b.standard)
       || ' 元，享受分类施保 ' || b.members_with_supplement || ' 人'
       || CASE WHEN b.tekun_multiplier_basis IS NOT NULL THEN '；特困基本生活标准按' || b.tekun_multiplier_basis || ' '
                    || yuan(b.tekun_multiplier_used) || ' 倍' ELSE '' END
       || CASE WHEN b.care_total > 0 THEN '；照料护理 ' || b.members_with_care || ' 人，合计 ' || yuan(b.care_total) || ' 元' ELSE '' END
       || CASE WHEN b.review_month IS NOT NULL THEN '；上次核查月份 ' || b.review_month || '，当月认定人均月收入 '
                    || yuan(b.review_pci) || ' 元（人社局 ' || b.review_month || ' 数据）' ELSE '' END AS evidence, false AS priority_raised
FROM expected_benefit b
WHERE abs(b.monthly_benefit - b.expected_benefit) > greatest(10, 0.1 * b.expected_benefit)
UNION ALL
SELECT x.household_source, x.household_id, 'BENEFIT_MISMATCH' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'GRADUAL_EXIT_AMOUNT' AS reasons,
       '渐退期（' || x.gradual_exit_since || ' 起第 ' || (x.exit_months + 1) || ' 个月，第 ' || (x.exit_year + 1)
       || ' 年）本月发放 ' || yuan(x.monthly_benefit) || ' 元，按渐退前 ' || yuan(x.pre_exit_amount) || ' 元每年递减 '
       || yuan(100 * x.reduction) || '% 测算应为 ' || yuan(x.expected_exit) || ' 元，相差 '
       || yuan(abs(x.monthly_benefit - x.expected_exit)) || ' 元' AS reason_text,
       '民政局：月保障金额 ' || yuan(x.monthly_benefit) || ' 元，渐退开始月份 ' || x.gradual_exit_since
       || '；' || x.pre_exit_evidence AS evidence, false AS priority_raised
FROM exit_amount x
WHERE x.pre_exit_amount IS NOT NULL
  AND abs(x.monthly_benefit - x.expected_exit) > greatest(10, 0.1 * x.expected_exit);
