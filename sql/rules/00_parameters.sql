-- Parameters in force in month M, one row per county (rules.md "Parameters": per county code
-- and effective month; the run for M uses the period that contains M). Loaded from the policy
-- YAML into stage.month_parameters by the rules asset; kept exact as DECIMAL so that
-- thresholds such as 1.5·S compare exactly.

CREATE OR REPLACE TEMP TABLE params AS
SELECT county_code, any_value(effective_from) AS effective_from,
    max(value) FILTER (WHERE name = 'dibao_standard_urban')::DECIMAL(18,4)             AS dibao_standard_urban,
    max(value) FILTER (WHERE name = 'dibao_standard_rural')::DECIMAL(18,4)             AS dibao_standard_rural,
    max(value) FILTER (WHERE name = 'marginal_multiplier')::DECIMAL(18,4)              AS marginal_multiplier,
    max(value) FILTER (WHERE name = 'expenditure_income_ceiling_urban')::DECIMAL(18,4) AS expenditure_income_ceiling_urban,
    max(value) FILTER (WHERE name = 'expenditure_income_ceiling_rural')::DECIMAL(18,4) AS expenditure_income_ceiling_rural,
    max(value) FILTER (WHERE name = 'asset_months')::DECIMAL(18,4)                     AS asset_months,
    max(value) FILTER (WHERE name = 'max_properties')::DECIMAL(18,4)                   AS max_properties,
    max(value) FILTER (WHERE name = 'employment_cost_deduction')::DECIMAL(18,4)        AS employment_cost_deduction,
    max(value) FILTER (WHERE name = 'gradual_exit_ceiling_multiplier')::DECIMAL(18,4)  AS gradual_exit_ceiling_multiplier,
    max(value) FILTER (WHERE name = 'gradual_exit_months')::INTEGER                    AS gradual_exit_months,
    max(value) FILTER (WHERE name = 'gradual_exit_months_disabled')::INTEGER           AS gradual_exit_months_disabled,
    max(value) FILTER (WHERE name = 'tekun_multiplier')::DECIMAL(18,4)                 AS tekun_multiplier,
    max(value) FILTER (WHERE name = 'min_topup_per_person')::DECIMAL(18,4)             AS min_topup_per_person,
    max(value) FILTER (WHERE name = 'supplement_severe')::DECIMAL(18,4)                AS supplement_severe,
    max(value) FILTER (WHERE name = 'supplement_multi_disabled')::DECIMAL(18,4)        AS supplement_multi_disabled,
    max(value) FILTER (WHERE name = 'supplement_elderly_minor')::DECIMAL(18,4)         AS supplement_elderly_minor,
    max(value) FILTER (WHERE name = 'medical_shock_12m')::DECIMAL(18,4)                AS medical_shock_12m,
    max(value) FILTER (WHERE name = 'disaster_loss_shock')::DECIMAL(18,4)              AS disaster_loss_shock,
    max(value) FILTER (WHERE name = 'relapse_income_threshold')::DECIMAL(18,4)         AS relapse_income_threshold,
    max(value) FILTER (WHERE name = 'review_cycle_months_stable')::INTEGER             AS review_cycle_months_stable,
    max(value) FILTER (WHERE name = 'review_cycle_months_unstable')::INTEGER           AS review_cycle_months_unstable,
    max(value) FILTER (WHERE name = 'audit_sample_rate')::DECIMAL(18,4)                AS audit_sample_rate
FROM stage.month_parameters
WHERE month = getvariable('month')
GROUP BY county_code;
