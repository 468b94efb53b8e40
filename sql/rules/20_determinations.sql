-- reads: hh_facts, params
-- Determination: one per household and month, the first that applies (rules.md "Determination").
-- Households with no living member get none; nor do households of a county the policy file
-- does not describe (reported). Seeds: 002 哈尔滨 (人均收入超出低保标准但低于 1.5 倍 → 低保边缘),
-- 000 高青县 (特困基本生活标准; 支出型困难), 001 蛟河 (支出型困难家庭).
--   1 OVER_ASSETS  assets not OK (on what is known: declared financial assets, properties when
--                  住建局 delivered)
--     PENDING      hr or housing undelivered in M (rules.md "Incomplete months")
--   2 TEKUN        every living member aged ≥ 60, < 18, or without labour capacity by disability,
--                  and household income before deductions = 0
--   3 DIBAO        pci < S
--   4 MARGINAL     pci < marginal_multiplier · S
--   5 EXPENDITURE  pci < expenditure ceiling and pci − rigid expenditure per capita < S
--     PENDING      test 5 reached with pci < the ceiling and failed, while medical_insurance or
--                  education is undelivered in M itself
--   6 NOT_ELIGIBLE
-- Each test is computed once as a column (determination_tests); the category and its reason codes
-- are read from the same columns. reason_codes (rules.md: every determination carries reason
-- codes): the test that decided it, FINANCIAL_ASSETS_UNKNOWN whenever the household's financial
-- assets were not declared (counted as OK, to be verified); for PENDING exactly
-- SOURCE_NOT_DELIVERED:<source> per source that made it pending (sorted, comma-separated).
-- Without hr, household_income and per_capita_income are NULL (unknown).

CREATE OR REPLACE TEMP TABLE determination_tests AS
SELECT f.*, p.marginal_multiplier,
       NOT f.financial_assets_ok                                           AS t1_financial_assets_over,
       NOT f.property_ok                                                   AS t1_properties_over,
       undelivered_of(['hr', 'housing'])                                   AS pending_sources_income,
       f.all_living_unable AND f.income_before_deductions = 0              AS t2_tekun,
       f.household_income < f.standard * f.n_living                        AS t3_dibao,
       f.household_income < p.marginal_multiplier * f.standard * f.n_living AS t4_marginal,
       f.household_income < f.expenditure_ceiling * f.n_living             AS t5_below_ceiling,
       12 * f.household_income - f.rigid_expenditure_12m < 12 * f.standard * f.n_living AS t5_rigid,
       undelivered_of(['education', 'medical_insurance'])                  AS pending_sources_expenditure
FROM hh_facts f JOIN params p ON p.county_code = f.county_code
WHERE f.n_living > 0;

CREATE OR REPLACE TEMP TABLE determination_pick AS
SELECT t.*,
       CASE WHEN t1_financial_assets_over OR t1_properties_over THEN 'OVER_ASSETS'
            WHEN len(pending_sources_income) > 0 THEN 'PENDING'
            WHEN t2_tekun THEN 'TEKUN'
            WHEN t3_dibao THEN 'DIBAO'
            WHEN t4_marginal THEN 'MARGINAL'
            WHEN t5_below_ceiling AND t5_rigid THEN 'EXPENDITURE'
            WHEN t5_below_ceiling AND len(pending_sources_expenditure) > 0 THEN 'PENDING'
            ELSE 'NOT_ELIGIBLE' END AS category,
       CASE WHEN len(pending_sources_income) > 0 THEN pending_sources_income
            ELSE pending_sources_expenditure END AS pending_candidates
FROM determination_tests t;

CREATE OR REPLACE TABLE months.determinations AS
SELECT getvariable('month') AS month, f.household_id, f.household_source, f.category,
       CASE f.category
            WHEN 'PENDING' THEN array_to_string(list_transform(f.pending_candidates, lambda s: 'SOURCE_NOT_DELIVERED:' || s), ',')
            ELSE concat_ws(',',
                CASE f.category
                    WHEN 'OVER_ASSETS' THEN concat_ws(',', CASE WHEN f.t1_financial_assets_over THEN 'FINANCIAL_ASSETS_OVER_LIMIT' END,
                                                          CASE WHEN f.t1_properties_over THEN 'PROPERTIES_OVER_LIMIT' END)
                    WHEN 'TEKUN' THEN 'ALL_MEMBERS_UNABLE_TO_WORK,NO_INCOME'
                    WHEN 'DIBAO' THEN 'INCOME_BELOW_STANDARD'
                    WHEN 'MARGINAL' THEN 'INCOME_BELOW_MARGINAL_LINE'
                    WHEN 'EXPENDITURE' THEN 'RIGID_EXPENDITURE'
                    ELSE 'NO_RULE_MET' END,
                CASE WHEN NOT f.financial_assets_known THEN 'FINANCIAL_ASSETS_UNKNOWN' END) END AS reason_codes,
       CASE WHEN f.category = 'PENDING' THEN array_to_string(f.pending_candidates, ',') END AS pending_sources,
       f.n_living AS household_size, f.n_listed AS members_listed,
       CASE WHEN f.income_known THEN f.household_income END AS household_income,
       CASE WHEN f.income_known THEN f.income_before_deductions END AS income_before_deductions,
       CASE WHEN f.income_known THEN f.wage_deductions END AS wage_deductions,
       f.other_income, f.support_income_disregarded,
       CASE WHEN f.income_known THEN f.per_capita_income END AS per_capita_income,
       f.standard::DECIMAL(18,2) AS standard,
       (f.marginal_multiplier * f.standard)::DECIMAL(18,2) AS marginal_line,
       f.expenditure_ceiling::DECIMAL(18,2) AS expenditure_ceiling,
       f.assets_ok, f.financial_assets, f.financial_assets_known, f.asset_limit_per_capita,
       CASE WHEN f.properties_known THEN f.property_total END AS property_total,
       f.rigid_expenditure_12m, f.rigid_expenditure_per_capita,
       f.roster_type, f.urban_rural, f.region_code, f.county_code, f.town_code, f.policy_period
FROM determination_pick f;
