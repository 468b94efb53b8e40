-- Determination: one per household and month, the first that applies (rules.md "Determination").
-- Households with no living member get none; nor do households of a county the policy file
-- does not describe (reported). Seeds: 002 哈尔滨 (人均收入超出低保标准但低于 1.5 倍 → 低保边缘),
-- 000 高青县 (特困基本生活标准; 支出型困难), 001 蛟河 (支出型困难家庭).
--   1 OVER_ASSETS  assets not OK
--   2 TEKUN        every living member aged ≥ 60, < 18, or without labour capacity by disability,
--                  and household income before deductions = 0
--   3 DIBAO        pci < S
--   4 MARGINAL     pci < marginal_multiplier · S
--   5 EXPENDITURE  pci < expenditure ceiling and pci − rigid expenditure per capita < S
--   6 NOT_ELIGIBLE
-- reason_codes (rules.md: every determination carries reason codes): which test decided it, and
-- FINANCIAL_ASSETS_UNKNOWN whenever the household's financial assets were not declared (counted
-- as OK, to be verified).

CREATE OR REPLACE TABLE stage.determinations AS
SELECT getvariable('month') AS month, f.household_id, f.household_source,
       CASE WHEN NOT f.assets_ok THEN 'OVER_ASSETS'
            WHEN f.all_living_unable AND f.income_before_deductions = 0 THEN 'TEKUN'
            WHEN f.household_income < f.standard * f.n_living THEN 'DIBAO'
            WHEN f.household_income < p.marginal_multiplier * f.standard * f.n_living THEN 'MARGINAL'
            WHEN f.household_income < f.expenditure_ceiling * f.n_living
             AND 12 * f.household_income - f.rigid_expenditure_12m < 12 * f.standard * f.n_living THEN 'EXPENDITURE'
            ELSE 'NOT_ELIGIBLE' END AS category,
       concat_ws(',',
           CASE WHEN NOT f.assets_ok THEN concat_ws(',', CASE WHEN NOT f.financial_assets_ok THEN 'FINANCIAL_ASSETS_OVER_LIMIT' END,
                                                        CASE WHEN NOT f.property_ok THEN 'PROPERTIES_OVER_LIMIT' END)
                WHEN f.all_living_unable AND f.income_before_deductions = 0 THEN 'ALL_MEMBERS_UNABLE_TO_WORK,NO_INCOME'
                WHEN f.household_income < f.standard * f.n_living THEN 'INCOME_BELOW_STANDARD'
                WHEN f.household_income < p.marginal_multiplier * f.standard * f.n_living THEN 'INCOME_BELOW_MARGINAL_LINE'
                WHEN f.household_income < f.expenditure_ceiling * f.n_living
                 AND 12 * f.household_income - f.rigid_expenditure_12m < 12 * f.standard * f.n_living THEN 'RIGID_EXPENDITURE'
                ELSE 'NO_RULE_MET' END,
           CASE WHEN NOT f.financial_assets_known THEN 'FINANCIAL_ASSETS_UNKNOWN' END) AS reason_codes,
       f.n_living AS household_size, f.n_listed AS members_listed,
       f.household_income, f.income_before_deductions, f.wage_deductions, f.other_income,
       f.per_capita_income, f.standard::DECIMAL(18,2) AS standard,
       (p.marginal_multiplier * f.standard)::DECIMAL(18,2) AS marginal_line,
       f.expenditure_ceiling::DECIMAL(18,2) AS expenditure_ceiling,
       f.assets_ok, f.financial_assets, f.financial_assets_known, f.asset_limit_per_capita, f.property_total,
       f.rigid_expenditure_12m, f.rigid_expenditure_per_capita,
       f.roster_type, f.urban_rural, f.region_code, f.county_code, f.town_code, f.policy_period
FROM hh_facts f JOIN params p ON p.county_code = f.county_code
WHERE f.n_living > 0;
