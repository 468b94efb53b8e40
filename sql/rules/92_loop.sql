-- reads: alert_types, hh_facts, prior_alive, undelivered, months.alerts, months.determinations,
--        months.household_members_monthly, months.households_monthly, months.persons_monthly,
--        months.month_parameters, months.src_emergency, months.src_health, months.withheld_evaluations,
--        main.alert_dispositions, main.alerts, main.src_household_registration, main.src_rural_revitalization
-- Closing the loop with town staff (interface.md "Closing the loop with town staff"; seed 004:
-- 动态监测、及时预警、闭环管理). An alert's key is (household_source, household_id, alert_type,
-- member_id_number). Runs after 90_alerts_finish.sql (months.alerts of M) and 38_withheld.sql
-- (prior_alive, months.withheld_evaluations); reads only main's alerts of months before M and the
-- answers stored for them (main.alert_dispositions), so a rerun of M gives the same result while
-- the landing files, the policy and those answers are unchanged.
--
--   due_date        last day of M + response_days of the type (policy period of M; default
--                   from sql/seeds/alert_catalogue.csv: DECEASED_RECIPIENT 5, DISASTER_AFFECTED 1,
--                   others 30). The list of M counts as issued on the first day of M+1.
--   evidence_fingerprint
--                   SHA-256 (lower-case hex) of the text
--                       alert_type '\n' reasons '\n' evidence values
--                   where the evidence values are the facts the rule rests on, as `name=value`
--                   joined with '|': amounts (wages, pensions, unemployment benefit, other income,
--                   financial assets, out-of-pocket, losses, the benefit paid), counts (living
--                   members, properties, disabled or employed members), statuses (roster type,
--                   determination category, employment, enrolment, register, disability level,
--                   dangerous-house grade, whether a department delivered) and dates (death,
--                   health and emergency events of M, start of gradual exit, last review) — per
--                   type below. Never the month, the standard or any other policy parameter, ages,
--                   names or the wording of the reason and evidence texts: a suppressed alert
--                   comes back when a fact changes, not when the standard is raised or a sentence
--                   is reworded.
--   last_answer_id, last_conclusion, last_check_date
--                   the answer that counts for the key: of every answer stored for an alert of the
--                   key of an earlier month, the one with the latest 核查日期, then the latest
--                   import (then the latest row of the file).
--   suppressed      the last conclusion is 不属实 and the fingerprint equals the fingerprint of
--                   the alert that answer was given for. Suppressed alerts stay here (counted as
--                   raised for 新增/持续 and 解除) and are on no staff list.
--   overdue         not suppressed, and the key has an earlier alert that was on a list (not
--                   suppressed), whose due date is on or before the last day of M, and for which
--                   no answer was received since it was issued (no answer for the key with a
--                   核查日期 on or after the first day of the month after that alert's month).
--                   overdue_alert_id / overdue_due_date name the earliest such alert.
--   list_priority   priority on the town list: one level up when overdue (高 stays 高); the
--                   rule's priority stays in `priority`.
--   resolved_alerts (解除) a key alive before M (prior_alive: raised in the latest earlier month
--                   in which its type was evaluated) that is neither raised nor withheld in M,
--                   with the first reason that applies: IN_ROSTER (now in the roster), NOT_CONSIDERED
--                   (the household is no longer considered), CATEGORY_CHANGED (its determination is
--                   now another category, named; types whose rule reads the determination),
--                   CONDITION_GONE (the condition no longer holds). A registration household that is
--                   no longer considered (no signal in M) while a department was undelivered in M
--                   says so in its reason: its signal may be in the file that did not come.

-- The catalogue's default days to answer (alert_types, 30_alert_setup.sql).
CREATE OR REPLACE TEMP VIEW loop_catalogue AS
SELECT alert_type, family, response_days AS default_days FROM alert_types;

-- Days per county and type in force in M (months.month_parameters rows `response_days.<TYPE>`).
CREATE OR REPLACE TEMP TABLE loop_response_days AS
SELECT county_code, substr(name, length('response_days.') + 1) AS alert_type, CAST(value AS INTEGER) AS days
FROM months.month_parameters
WHERE month = getvariable('month') AND starts_with(name, 'response_days.');

CREATE OR REPLACE TEMP MACRO loop_category_name(c) AS
    CASE c WHEN 'OVER_ASSETS' THEN '资产超标' WHEN 'TEKUN' THEN '特困' WHEN 'DIBAO' THEN '低保' WHEN 'MARGINAL' THEN '低保边缘'
           WHEN 'EXPENDITURE' THEN '支出型困难' WHEN 'PENDING' THEN '待定' WHEN 'NOT_ELIGIBLE' THEN '不符合救助条件'
           ELSE coalesce(c, '无认定') END;

-- --- evidence values -------------------------------------------------------------------------
CREATE OR REPLACE TEMP MACRO loop_v(x) AS coalesce(CAST(x AS VARCHAR), '?');

-- Events of M per person (dates, types, amounts): health and emergency records of this month.
CREATE OR REPLACE TEMP TABLE loop_person_events AS
SELECT id_number, string_agg(ev, ';' ORDER BY ev) AS events
FROM (
    SELECT id_number, 'health:' || loop_v(event_type) || '@' || loop_v(event_date) AS ev
    FROM months.src_health WHERE month = getvariable('month') AND id_number IS NOT NULL
    UNION ALL
    SELECT id_number, 'emergency:' || loop_v(disaster_type) || '/' || loop_v(house_damage) || '/' || loop_v(direct_loss) || '@' || loop_v(disaster_date)
    FROM months.src_emergency WHERE month = getvariable('month') AND id_number IS NOT NULL
)
GROUP BY id_number;

-- Only the households with an alert in M (a province has millions of households, a few % alerted).
CREATE OR REPLACE TEMP TABLE loop_alerted AS
SELECT DISTINCT household_source, household_id FROM months.alerts WHERE month = getvariable('month');

CREATE OR REPLACE TEMP TABLE loop_household_values AS
WITH m AS (
    SELECT hm.household_source, hm.household_id,
           string_agg(loop_v(p.employment_status) || '/' || loop_v(hm.labor_capacity) || '/' || loop_v(p.studying), ';'
                      ORDER BY hm.id_number) FILTER (WHERE hm.is_living) AS work,
           string_agg(loop_v(p.employment_status_prev) || '>' || loop_v(p.employment_status), ';' ORDER BY hm.id_number) AS job_change,
           string_agg(loop_v(hm.disability_type) || '/' || loop_v(hm.disability_level) || '/' || loop_v(p.serious_illness_to_m),
                      ';' ORDER BY hm.id_number) FILTER (WHERE hm.is_living) AS health,
           string_agg(loop_v(p.enrollment_status) || '/' || loop_v(p.school) || '/' || loop_v(p.school_stage), ';' ORDER BY hm.id_number)
               FILTER (WHERE hm.is_living AND p.enrollment_status IS NOT NULL) AS school,
           string_agg(loop_v(p.dangerous_house_grade), ';' ORDER BY hm.id_number) FILTER (WHERE hm.is_living AND p.dangerous_house_grade IS NOT NULL) AS houses,
           string_agg(e.events, ';' ORDER BY hm.id_number) FILTER (WHERE e.events IS NOT NULL) AS events,
           string_agg(e.events, ';' ORDER BY hm.id_number) FILTER (WHERE hm.is_living AND e.events LIKE '%emergency:%') AS living_emergency
    FROM months.household_members_monthly hm
    JOIN loop_alerted USING (household_source, household_id)
    JOIN months.persons_monthly p USING (id_number)
    LEFT JOIN loop_person_events e USING (id_number)
    GROUP BY ALL
)
SELECT f.household_source, f.household_id,
       concat_ws('|', 'income_known=' || loop_v(f.income_known), 'wage=' || loop_v(f.wage_total), 'pension=' || loop_v(f.pension_total),
                 'unemployment_benefit=' || loop_v(f.unemployment_benefit_total), 'other_income=' || loop_v(f.other_income),
                 'living=' || loop_v(f.n_living), 'financial_assets=' || loop_v(f.financial_assets),
                 'properties=' || CASE WHEN f.properties_known THEN loop_v(f.property_total) ELSE '?' END,
                 'roster=' || loop_v(f.roster_type)) AS income,
       f.*, m.work, m.job_change, m.health, m.school, m.houses, m.events, m.living_emergency
FROM hh_facts f JOIN loop_alerted USING (household_source, household_id) LEFT JOIN m USING (household_source, household_id);

CREATE OR REPLACE TEMP TABLE loop_fingerprints AS
WITH dup AS (
    SELECT id_number, string_agg(DISTINCT household_id, ',' ORDER BY household_id) AS households
    FROM months.household_members_monthly WHERE household_source = 'civil_affairs' GROUP BY id_number
), v AS (
    SELECT a.household_source, a.household_id, a.alert_type, coalesce(a.member_id_number, '') AS member_key, a.reasons,
           CASE
               WHEN a.alert_type IN ('TEKUN_CANDIDATE', 'DIBAO_OMISSION', 'MARGINAL_OMISSION') THEN
                   concat_ws('|', 'category=' || loop_v(a.category), h.income)
               WHEN a.alert_type = 'EXPENDITURE_HARDSHIP' THEN
                   concat_ws('|', 'category=' || loop_v(a.category), h.income, 'out_of_pocket_12m=' || loop_v(h.out_of_pocket_12m),
                             'education_net_cost=' || loop_v(h.education_net_cost))
               WHEN a.alert_type = 'SINGLE_PERSON_DIBAO' THEN
                   concat_ws('|', 'category=' || loop_v(a.category), h.income,
                             'member=' || loop_v(hm.disability_type) || '/' || loop_v(hm.disability_level) || '/' || loop_v(p.serious_illness_to_m))
               WHEN a.alert_type = 'RELAPSE_RISK' THEN
                   concat_ws('|', 'monitored=' || loop_v(h.rr_category) || '/' || loop_v(h.rr_risk_eliminated) || '/' || loop_v(h.roster_type),
                             'events=' || loop_v(h.events),
                             CASE WHEN a.reasons LIKE '%MEDICAL_COST%' THEN 'out_of_pocket_12m=' || loop_v(h.out_of_pocket_12m) END,
                             CASE WHEN a.reasons LIKE '%DISASTER%' THEN 'max_loss=' || loop_v(h.max_direct_loss_m) END,
                             CASE WHEN a.reasons LIKE '%JOB_LOSS%' THEN 'job_change=' || loop_v(h.job_change) END,
                             CASE WHEN a.reasons LIKE '%DROPOUT%' THEN 'school=' || loop_v(h.school) END,
                             CASE WHEN a.reasons LIKE '%LOW_INCOME%' THEN 'rr_income=' || loop_v(h.rr_annual_income_per_capita) END)
               WHEN a.alert_type IN ('GRADUAL_EXIT_START', 'GRADUAL_EXIT_REVERT', 'GRADUAL_EXIT_END') THEN
                   concat_ws('|', h.income, 'exit_since=' || loop_v(h.gradual_exit_since), 'disabled=' || loop_v(h.disabled_living))
               WHEN a.alert_type = 'WRONGFUL_INCLUSION' THEN h.income
               WHEN a.alert_type = 'DECEASED_RECIPIENT' THEN
                   concat_ws('|', 'death=' || loop_v(p.death_date), 'register=' || loop_v(p.register_status))
               WHEN a.alert_type = 'BENEFIT_MISMATCH' THEN
                   concat_ws('|', 'paid=' || loop_v(h.monthly_benefit), h.income, 'members=' || loop_v(h.health))
               WHEN a.alert_type = 'ZERO_EMPLOYMENT' THEN
                   concat_ws('|', 'urban_rural=' || loop_v(h.urban_rural), 'work=' || loop_v(h.work),
                             'able=' || loop_v(h.able_working_age_not_studying), 'employed=' || loop_v(h.employed_living))
               WHEN a.alert_type = 'STUDENT_DROPOUT' THEN
                   'school=' || loop_v(p.enrollment_status) || '/' || loop_v(p.school) || '/' || loop_v(p.school_stage)
               WHEN a.alert_type = 'DANGEROUS_HOUSE' THEN 'houses=' || loop_v(h.houses)
               WHEN a.alert_type = 'DISASTER_AFFECTED' THEN 'events=' || loop_v(h.living_emergency)
               WHEN a.alert_type = 'REVIEW_DUE' THEN
                   concat_ws('|', 'last_review=' || loop_v(h.last_review_date), 'roster=' || loop_v(h.roster_type))
               WHEN a.alert_type = 'DUPLICATE_ASSISTANCE' THEN 'households=' || loop_v(dup.households)
               ELSE h.income
           END AS evidence_values
    FROM months.alerts a
    LEFT JOIN loop_household_values h USING (household_source, household_id)
    LEFT JOIN months.household_members_monthly hm
           ON hm.household_source = a.household_source AND hm.household_id = a.household_id AND hm.id_number = a.member_id_number
    LEFT JOIN months.persons_monthly p ON p.id_number = a.member_id_number
    LEFT JOIN dup ON dup.id_number = a.member_id_number
    WHERE a.month = getvariable('month')
)
SELECT household_source, household_id, alert_type, member_key,
       sha256(alert_type || chr(10) || coalesce(reasons, '') || chr(10) || coalesce(evidence_values, '')) AS evidence_fingerprint
FROM v;

-- --- answers stored for alerts of earlier months ----------------------------------------------
CREATE OR REPLACE TEMP TABLE loop_answers AS
SELECT d.disposition_id, d.month, d.alert_id, d.household_source, d.household_id, d.alert_type,
       coalesce(d.member_id_number, '') AS member_key, d.conclusion, d.check_date, d.imported_at, d.row_number,
       a.evidence_fingerprint AS answered_fingerprint
FROM main.alert_dispositions d
LEFT JOIN main.alerts a ON a.month = d.month AND a.alert_id = d.alert_id
WHERE d.month < getvariable('month');

CREATE OR REPLACE TEMP TABLE loop_last_answer AS
SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY household_source, household_id, alert_type, member_key
                                 ORDER BY check_date DESC, imported_at DESC, row_number DESC, disposition_id DESC) AS rn
    FROM loop_answers)
WHERE rn = 1;

-- --- due date, fingerprint, last answer, suppression ------------------------------------------
UPDATE months.alerts AS a SET
    due_date = x.due_date, evidence_fingerprint = x.evidence_fingerprint,
    last_answer_id = x.last_answer_id, last_conclusion = x.last_conclusion, last_check_date = x.last_check_date,
    suppressed = x.suppressed, overdue = false, list_priority = a.priority
FROM (
    SELECT a.alert_id,
           (getvariable('month_end')::DATE + coalesce(r.days, c.default_days, 30))::DATE AS due_date,
           f.evidence_fingerprint,
           l.disposition_id AS last_answer_id, l.conclusion AS last_conclusion, l.check_date AS last_check_date,
           coalesce(l.conclusion = '不属实' AND l.answered_fingerprint = f.evidence_fingerprint, false) AS suppressed
    FROM months.alerts a
    LEFT JOIN loop_response_days r ON r.county_code = a.county_code AND r.alert_type = a.alert_type
    LEFT JOIN loop_catalogue c ON c.alert_type = a.alert_type
    LEFT JOIN loop_fingerprints f ON f.household_source = a.household_source AND f.household_id = a.household_id
          AND f.alert_type = a.alert_type AND f.member_key = coalesce(a.member_id_number, '')
    LEFT JOIN loop_last_answer l ON l.household_source = a.household_source AND l.household_id = a.household_id
          AND l.alert_type = a.alert_type AND l.member_key = coalesce(a.member_id_number, '')
    WHERE a.month = getvariable('month')
) x
WHERE a.alert_id = x.alert_id AND a.month = getvariable('month');

-- --- overdue ------------------------------------------------------------------------------------
CREATE OR REPLACE TEMP TABLE loop_overdue AS
WITH earlier AS (  -- alerts of earlier months that were on a list, with their due date and issue date
    SELECT e.household_source, e.household_id, e.alert_type, coalesce(e.member_id_number, '') AS member_key, e.alert_id,
           coalesce(e.due_date, (last_day(CAST(e.month || '-01' AS DATE)) + coalesce(c.default_days, 30))::DATE) AS due_date,
           (last_day(CAST(e.month || '-01' AS DATE)) + 1)::DATE AS issued
    FROM main.alerts e LEFT JOIN loop_catalogue c USING (alert_type)
    WHERE e.month < getvariable('month') AND NOT coalesce(e.suppressed, false)
), unanswered AS (
    SELECT e.* FROM earlier e
    WHERE e.due_date <= getvariable('month_end')::DATE
      AND NOT EXISTS (SELECT 1 FROM loop_answers d
                      WHERE d.household_source = e.household_source AND d.household_id = e.household_id
                        AND d.alert_type = e.alert_type AND d.member_key = e.member_key AND d.check_date >= e.issued)
)
SELECT household_source, household_id, alert_type, member_key,
       arg_min(alert_id, due_date) AS overdue_alert_id, min(due_date) AS overdue_due_date
FROM unanswered GROUP BY ALL;

UPDATE months.alerts AS a SET
    overdue = true, overdue_alert_id = o.overdue_alert_id, overdue_due_date = o.overdue_due_date,
    list_priority = CASE a.priority WHEN '低' THEN '中' ELSE '高' END
FROM loop_overdue o
WHERE a.month = getvariable('month') AND NOT a.suppressed
  AND o.household_source = a.household_source AND o.household_id = a.household_id
  AND o.alert_type = a.alert_type AND o.member_key = coalesce(a.member_id_number, '');

-- --- 解除: alive before M, neither raised nor withheld in M --------------------------------------
CREATE OR REPLACE TABLE months.resolved_alerts AS
WITH gone AS (
    SELECT p.* FROM prior_alive p
    WHERE NOT EXISTS (SELECT 1 FROM months.alerts a
                      WHERE a.month = getvariable('month') AND a.household_source = p.household_source
                        AND a.household_id = p.household_id AND a.alert_type = p.alert_type
                        AND coalesce(a.member_id_number, '') = p.member_key)
      AND NOT EXISTS (SELECT 1 FROM months.withheld_evaluations w
                      WHERE w.month = getvariable('month') AND w.household_source = p.household_source
                        AND w.household_id = p.household_id AND w.alert_type = p.alert_type)
), last AS (  -- the key's last alert (of the month it was alive in)
    SELECT g.household_source, g.household_id, g.alert_type, g.member_key,
           arg_max(a.alert_id, a.month) AS last_alert_id, max(a.month) AS last_alert_month
    FROM gone g JOIN main.alerts a
      ON a.household_source = g.household_source AND a.household_id = g.household_id
     AND a.alert_type = g.alert_type AND coalesce(a.member_id_number, '') = g.member_key
     AND a.month < getvariable('month')
    GROUP BY ALL
), joined_roster AS (  -- a household outside the roster (its members of that month: the department's
                       -- file of that month) with a member now in a roster household
    SELECT l.household_source, l.household_id, l.alert_type, l.member_key, min(now_hh.roster_type) AS roster_now
    FROM last l
    JOIN (SELECT month, 'rural_revitalization' AS household_source, rr_household_id AS household_id, id_number FROM main.src_rural_revitalization
          UNION ALL
          SELECT month, 'household_registration', hukou_id, id_number FROM main.src_household_registration) old
      ON old.month = l.last_alert_month AND old.household_source = l.household_source AND old.household_id = l.household_id
    JOIN months.household_members_monthly now_m ON now_m.id_number = old.id_number AND now_m.household_source = 'civil_affairs'
    JOIN months.households_monthly now_hh ON now_hh.household_source = 'civil_affairs' AND now_hh.household_id = now_m.household_id
    WHERE l.household_source <> 'civil_affairs'
    GROUP BY ALL
)
SELECT getvariable('month') AS month, a.household_source, a.household_id, a.alert_type, a.alert_name, a.member_id_number, a.member_name,
       l.last_alert_id, l.last_alert_month, a.first_month, a.priority AS last_priority, a.reason_text AS last_reason_text,
       coalesce(a.suppressed, false) AS last_suppressed,
       r.reason_code,
       CASE r.reason_code
           WHEN 'IN_ROSTER' THEN '已纳入救助台账（' || coalesce(r.roster_now, '') || '）'
           WHEN 'NOT_CONSIDERED' THEN CASE a.household_source WHEN 'civil_affairs' THEN '家庭已不在救助台账中，不再纳入考察'
                                                         WHEN 'rural_revitalization' THEN '家庭已不在乡村振兴监测名单中，不再纳入考察'
                                                         ELSE '户籍家庭本月没有风险信号，不再纳入考察'
                                                              || coalesce('（注意：本月' || (SELECT string_agg(department, '、' ORDER BY source_order) FROM undelivered)
                                                                          || '数据未报送，风险信号可能缺失，请核实）', '') END
           WHEN 'CATEGORY_CHANGED' THEN '认定类别由“' || loop_category_name(a.category) || '”变为“' || loop_category_name(d.category) || '”'
           ELSE '预警条件本月不再成立' END AS reason,
       d.category AS category_now,
       coalesce(h.region_code, a.region_code) AS region_code, coalesce(h.county_code, a.county_code) AS county_code,
       coalesce(h.town_code, a.town_code) AS town_code, coalesce(h.village_code, a.village_code) AS village_code,
       coalesce(h.head_name, a.head_name) AS head_name, coalesce(h.head_id_number, a.head_id_number) AS head_id_number
FROM last l
JOIN main.alerts a ON a.month = l.last_alert_month AND a.alert_id = l.last_alert_id
LEFT JOIN months.households_monthly h ON h.household_source = l.household_source AND h.household_id = l.household_id
LEFT JOIN months.determinations d ON d.household_source = l.household_source AND d.household_id = l.household_id
LEFT JOIN loop_catalogue c ON c.alert_type = l.alert_type
LEFT JOIN joined_roster jr ON jr.household_source = l.household_source AND jr.household_id = l.household_id
      AND jr.alert_type = l.alert_type AND jr.member_key = l.member_key
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN jr.roster_now IS NOT NULL THEN 'IN_ROSTER'
        WHEN l.household_source = 'civil_affairs' AND c.family = 'omission' AND h.roster_type IS NOT NULL
             AND h.roster_type IS DISTINCT FROM a.roster_type THEN 'IN_ROSTER'
        WHEN h.household_id IS NULL OR h.n_living = 0 THEN 'NOT_CONSIDERED'
        WHEN (c.family = 'omission' OR l.alert_type IN ('GRADUAL_EXIT_START', 'GRADUAL_EXIT_REVERT', 'GRADUAL_EXIT_END', 'WRONGFUL_INCLUSION'))
             AND d.category IS NOT NULL AND d.category IS DISTINCT FROM a.category THEN 'CATEGORY_CHANGED'
        ELSE 'CONDITION_GONE' END AS reason_code,
        coalesce(jr.roster_now, h.roster_type) AS roster_now
) r;
