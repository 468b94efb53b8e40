-- reads: hh_facts, params, hh_evidence
-- 低保渐退 (rules.md GRADUAL_EXIT_START / _REVERT / _END; seed 001 蛟河: 家庭人均可支配收入超过当地低保
-- 标准但低于 2 倍的继续享受低保待遇，城乡低保家庭 18 个月，残疾人低保家庭 24 个月；渐退期间重新符合
-- 低保条件的终止渐退; seeds 002 / 003 / 004: 渐退期政策).
--   START   roster 低保, not in exit, S ≤ pci < gradual_exit_ceiling_multiplier · S, assets OK
--   REVERT  roster 低保 in exit, pci < S (assets not tested)
--   END     roster 低保 in exit, months from 渐退开始月份 to M ≥ gradual_exit_months
--           (gradual_exit_months_disabled if a living member has any 残疾等级), pci ≥ S

CREATE OR REPLACE TEMP VIEW alert_hits_exit AS
WITH x AS (
    SELECT f.*, p.gradual_exit_months, p.gradual_exit_months_disabled,
           month_index(getvariable('month')) - month_index(f.gradual_exit_since) AS exit_months,
           CASE WHEN f.disabled_living > 0 THEN p.gradual_exit_months_disabled ELSE p.gradual_exit_months END AS exit_limit
    FROM hh_facts f JOIN params p ON p.county_code = f.county_code
    WHERE f.n_living > 0 AND f.household_source = 'civil_affairs' AND f.roster_type = '低保' AND f.in_gradual_exit
)
SELECT f.household_source, f.household_id, 'GRADUAL_EXIT_START' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'INCOME_ABOVE_STANDARD' AS reasons,
       '低保家庭人均月收入 ' || yuan(f.per_capita_income) || ' 元，已达到低保标准 ' || yuan(f.standard)
       || ' 元但低于其 ' || yuan(p.gradual_exit_ceiling_multiplier) || ' 倍（' || yuan(p.gradual_exit_ceiling_multiplier * f.standard) || ' 元），应启动渐退' AS reason_text,
       e.income_evidence || '；' || e.assets_evidence AS evidence, false AS priority_raised
FROM hh_facts f JOIN params p ON p.county_code = f.county_code JOIN hh_evidence e USING (household_source, household_id)
WHERE f.n_living > 0 AND f.household_source = 'civil_affairs' AND f.roster_type = '低保' AND NOT f.in_gradual_exit
  AND f.household_income >= f.standard * f.n_living
  AND f.household_income < p.gradual_exit_ceiling_multiplier * f.standard * f.n_living
  AND f.assets_ok
UNION ALL
SELECT f.household_source, f.household_id, 'GRADUAL_EXIT_REVERT' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'INCOME_BELOW_STANDARD' AS reasons,
       '渐退期家庭（' || f.gradual_exit_since || ' 起）人均月收入 ' || yuan(f.per_capita_income) || ' 元，重新低于低保标准 ' || yuan(f.standard) || ' 元' AS reason_text,
       e.income_evidence AS evidence, false AS priority_raised
FROM hh_facts f JOIN hh_evidence e USING (household_source, household_id)
WHERE f.n_living > 0 AND f.household_source = 'civil_affairs' AND f.roster_type = '低保' AND f.in_gradual_exit
  AND f.household_income < f.standard * f.n_living
UNION ALL
SELECT x.household_source, x.household_id, 'GRADUAL_EXIT_END' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'EXIT_PERIOD_OVER' AS reasons,
       '渐退期自 ' || x.gradual_exit_since || ' 起已满 ' || x.exit_months || ' 个月（期限 ' || x.exit_limit || ' 个月'
       || CASE WHEN x.disabled_living > 0 THEN '，家庭有残疾成员' ELSE '' END || '），人均月收入 ' || yuan(x.per_capita_income)
       || ' 元不低于低保标准 ' || yuan(x.standard) || ' 元，应办理退出' AS reason_text,
       '民政局：渐退开始月份 ' || x.gradual_exit_since || '；' || e.income_evidence AS evidence, false AS priority_raised
FROM x JOIN hh_evidence e USING (household_source, household_id)
WHERE x.exit_months >= x.exit_limit AND x.household_income >= x.standard * x.n_living;
