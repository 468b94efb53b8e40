-- reads: months.month_parameters
-- Parameters in force in month M, one row per county (rules.md "Parameters": per county code
-- and effective month; the run for M uses the period that contains M; rules-variants.md B.1 for
-- the optional ones: flags are stored as 1/0, dibao_benefit_basis as text_value). Loaded from the policy
-- YAML into months.month_parameters by the rules asset; kept exact as DECIMAL so that
-- thresholds such as 1.5·S compare exactly. The one parameter table of M: read by the rules
-- (sql/rules/) and the metrics (sql/metrics/) alike.

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
    max(value) FILTER (WHERE name = 'audit_sample_rate')::DECIMAL(18,4)                AS audit_sample_rate,
    -- rules-variants.md B.1 (optional in the policy file; the loader fills in each default, so a
    -- NULL below is a value: "off", or "falls back to" as the table says)
    max(value) FILTER (WHERE name = 'tekun_multiplier_urban')::DECIMAL(18,4)           AS tekun_multiplier_urban,        -- 000:19; NULL = tekun_multiplier
    max(value) FILTER (WHERE name = 'tekun_multiplier_rural')::DECIMAL(18,4)           AS tekun_multiplier_rural,        -- 000:19; NULL = tekun_multiplier
    max(value) FILTER (WHERE name = 'tekun_multiplier_centralized')::DECIMAL(18,4)     AS tekun_multiplier_centralized,  -- 001:40; NULL = the urban/rural one
    max(value) FILTER (WHERE name = 'tekun_care_self')::DECIMAL(18,4)                  AS tekun_care_self,               -- 002:20 全自理
    max(value) FILTER (WHERE name = 'tekun_care_partial')::DECIMAL(18,4)               AS tekun_care_partial,            -- 002:20 半护理
    max(value) FILTER (WHERE name = 'tekun_care_full')::DECIMAL(18,4)                  AS tekun_care_full,               -- 002:20 全护理
    coalesce(max(value) FILTER (WHERE name = 'support_income_disregard') = 1, false)   AS support_income_disregard,      -- 002:28
    coalesce(max(value) FILTER (WHERE name = 'severe_disability_level3_intellectual_mental') = 1, false)
                                                                                       AS severe_disability_level3_intellectual_mental, -- 002:18, 002:22
    coalesce(max(value) FILTER (WHERE name = 'single_person_critical_illness_claim') = 1, false)
                                                                                       AS single_person_critical_illness_claim,         -- 002:22
    max(value) FILTER (WHERE name = 'single_person_veteran_max_grade')::INTEGER        AS single_person_veteran_max_grade,  -- 002:22; NULL = off
    coalesce(max(value) FILTER (WHERE name = 'single_person_preferential') = 1, false) AS single_person_preferential,    -- 002:22
    max(value) FILTER (WHERE name = 'supplement_elderly_age')::INTEGER                 AS supplement_elderly_age,        -- 001:48
    max(value) FILTER (WHERE name = 'supplement_minor_age')::INTEGER                   AS supplement_minor_age,          -- 001:48
    max(value) FILTER (WHERE name = 'supplement_elderly_disabled_age')::INTEGER        AS supplement_elderly_disabled_age, -- NULL = no 老残一体 group
    max(value) FILTER (WHERE name = 'supplement_veteran_max_grade')::INTEGER           AS supplement_veteran_max_grade,  -- 002:18; NULL = off
    max(value) FILTER (WHERE name = 'supplement_preferential')::DECIMAL(18,4)          AS supplement_preferential,       -- 002:18
    max(value) FILTER (WHERE name = 'gradual_exit_annual_reduction')::DECIMAL(18,4)    AS gradual_exit_annual_reduction, -- 001:50; NULL = not checked
    max(value) FILTER (WHERE name = 'gradual_exit_reduction_offset')::INTEGER          AS gradual_exit_reduction_offset, -- 001:50
    coalesce(max(text_value) FILTER (WHERE name = 'dibao_benefit_basis'), 'current_month') AS dibao_benefit_basis,      -- 002:26
    coalesce(max(value) FILTER (WHERE name = 'audit_per_town') = 1, false)             AS audit_per_town,                -- 004:51
    coalesce(max(value) FILTER (WHERE name = 'audit_include_rejected') = 1, false)     AS audit_include_rejected         -- 004:51
FROM months.month_parameters
WHERE month = getvariable('month')
GROUP BY county_code;
