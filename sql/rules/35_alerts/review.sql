-- reads: hh_facts, params
-- 到期复核 REVIEW_DUE (rules.md; seed 002 哈尔滨: 分类复核，复核期内家庭经济状况没有明显变化的
-- 不再调整救助水平; cycle lengths are rules.md parameters). Roster household whose 上次核查日期 plus the review cycle in calendar
-- months (the day capped at the month's last day) ≤ last day of M.
--   cycle = review_cycle_months_stable for 特困 and for households with no living member aged
--           18–59 with 劳动能力 有; review_cycle_months_unstable otherwise.

CREATE OR REPLACE TEMP VIEW alert_hits_review AS
WITH r AS (
    SELECT f.*, CASE WHEN f.roster_type = '特困' OR f.able_working_age_living = 0
                     THEN p.review_cycle_months_stable ELSE p.review_cycle_months_unstable END AS cycle
    FROM hh_facts f JOIN params p ON p.county_code = f.county_code
    WHERE f.n_living > 0 AND f.household_source = 'civil_affairs' AND f.last_review_date IS NOT NULL
)
SELECT household_source, household_id, 'REVIEW_DUE' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'REVIEW_CYCLE_' || cycle AS reasons,
       '上次核查 ' || strftime(last_review_date, '%Y-%m-%d') || '，复核周期 ' || cycle || ' 个月，复核到期日 '
       || strftime((last_review_date + to_months(cycle))::DATE, '%Y-%m-%d') || '，已到期' AS reason_text,
       '民政局：上次核查日期 ' || strftime(last_review_date, '%Y-%m-%d') || '，救助类别 ' || roster_type AS evidence, false AS priority_raised
FROM r
WHERE (last_review_date + to_months(cycle))::DATE <= getvariable('month_end')::DATE;
