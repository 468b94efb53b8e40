-- reads: params, months.households_monthly, months.determinations, months.alerts
-- Targeting accuracy per town and month (issue #6; seed 004 安徽 "精准认定、应保尽保、应退尽退";
-- the World Bank's exclusion / inclusion error and take-up). Reads month M's tables in schema months:
-- determinations (rules.md "Determination"), households_monthly, alerts, and the parameter table
-- of M (params, sql/shared/10_parameters.sql) that the rules read.
--
--   eligible                households determined TEKUN, DIBAO, MARGINAL or EXPENDITURE (any of
--                           the four assistance categories the roster holds)
--   exclusion_error         eligible households not in the roster (rural-revitalization or registered
--                           households) / eligible households. "Estimated": registered households are
--                           only screened when they have a signal (rules.md), so the true universe is larger.
--   roster_assessed         roster (civil_affairs) households with a determination (≥ 1 living member,
--                           county in the policy file)
--   inclusion_error         roster households determined NOT_ELIGIBLE or OVER_ASSETS on linked data /
--                           roster_assessed. (roster_wrongful counts those with a WRONGFUL_INCLUSION alert,
--                           which also tolerates gradual exit: S ≤ pci < 2·S for 低保.)
--   cash_eligible           households determined DIBAO or TEKUN (the two cash programmes)
--   take_up_caseload        cash_eligible households receiving 低保 or 特困 (roster type, benefit > 0)
--                           / cash_eligible
--   entitled_amount         Σ over cash_eligible of the base monthly entitlement: TEKUN tekun_multiplier·S·n,
--                           DIBAO max(S·n − household income, min_topup_per_person·n) (rules.md
--                           "Expected benefit", without the 分类施保 supplements; the macros
--                           tekun_entitlement and dibao_entitlement of sql/shared/00_macros.sql, which
--                           BENEFIT_MISMATCH uses too)
--   paid_to_eligible        Σ over cash_eligible receiving of min(monthly_benefit, entitlement): an
--                           overpayment does not make up for someone else's gap
--   take_up_amount          paid_to_eligible / entitled_amount
-- A ratio whose denominator is 0 is NULL (nothing to measure), never 0.
-- PENDING households (rules.md "Incomplete months": a department's file missing) are not assessed:
-- they count in households_pending only, so an incomplete month does not read as a small error.

CREATE OR REPLACE TEMP TABLE metric_households AS
SELECT h.household_source, h.household_id, h.county_code, h.town_code,
       h.household_source = 'civil_affairs' AS in_roster, h.roster_type, coalesce(h.monthly_benefit, 0) AS monthly_benefit,
       d.category, d.household_size, d.household_income, d.standard,
       d.category IN ('TEKUN', 'DIBAO', 'MARGINAL', 'EXPENDITURE') AS eligible,
       d.category IN ('DIBAO', 'TEKUN') AS cash_eligible,
       h.roster_type IN ('低保', '特困') AND coalesce(h.monthly_benefit, 0) > 0 AS receiving_cash,
       CASE d.category
           WHEN 'TEKUN' THEN tekun_entitlement(p.tekun_multiplier, d.standard, d.household_size)
           WHEN 'DIBAO' THEN dibao_entitlement(d.standard, d.household_size, d.household_income, p.min_topup_per_person)
       END::DECIMAL(18,2) AS entitlement,
       EXISTS (SELECT 1 FROM months.alerts a WHERE a.month = getvariable('month') AND a.alert_type = 'WRONGFUL_INCLUSION'
                 AND a.household_source = h.household_source AND a.household_id = h.household_id) AS wrongful_alert
FROM months.households_monthly h
LEFT JOIN months.determinations d USING (household_source, household_id)
LEFT JOIN params p ON p.county_code = h.county_code;

CREATE OR REPLACE TABLE months.targeting_metrics AS
WITH c AS (
    SELECT county_code, town_code,
           count(*) FILTER (WHERE category IS NOT NULL AND category <> 'PENDING') AS households_assessed,
           count(*) FILTER (WHERE category = 'PENDING')                         AS households_pending,
           count(*) FILTER (WHERE eligible)                                     AS eligible,
           count(*) FILTER (WHERE eligible AND in_roster)                       AS eligible_in_roster,
           count(*) FILTER (WHERE eligible AND NOT in_roster)                   AS eligible_not_in_roster,
           count(*) FILTER (WHERE in_roster)                                    AS roster_households,
           count(*) FILTER (WHERE in_roster AND category IS NOT NULL AND category <> 'PENDING') AS roster_assessed,
           count(*) FILTER (WHERE in_roster AND category IN ('NOT_ELIGIBLE', 'OVER_ASSETS')) AS roster_failing,
           count(*) FILTER (WHERE in_roster AND wrongful_alert)                 AS roster_wrongful,
           count(*) FILTER (WHERE cash_eligible)                                AS cash_eligible,
           count(*) FILTER (WHERE cash_eligible AND receiving_cash)             AS cash_eligible_receiving,
           coalesce(sum(entitlement) FILTER (WHERE cash_eligible), 0)::DECIMAL(18,2) AS entitled_amount,
           coalesce(sum(least(monthly_benefit, entitlement)) FILTER (WHERE cash_eligible AND receiving_cash), 0)::DECIMAL(18,2) AS paid_to_eligible
    FROM metric_households
    GROUP BY county_code, town_code
)
SELECT getvariable('month') AS month, county_code, town_code,
       households_assessed, households_pending, eligible, eligible_in_roster, eligible_not_in_roster,
       roster_households, roster_assessed, roster_failing, roster_wrongful,
       cash_eligible, cash_eligible_receiving, entitled_amount, paid_to_eligible,
       round(eligible_not_in_roster / nullif(eligible, 0), 6)            AS exclusion_error,
       round(roster_failing / nullif(roster_assessed, 0), 6)             AS inclusion_error,
       round(cash_eligible_receiving / nullif(cash_eligible, 0), 6)      AS take_up_caseload,
       round(paid_to_eligible / nullif(entitled_amount, 0), 6)::DOUBLE   AS take_up_amount
FROM c
ORDER BY county_code, town_code;
