-- reads: params, months.households_monthly, months.household_members_monthly, months.persons_monthly
-- Household income, per-capita income, assets and rigid expenditure
-- (rules.md "Income, assets, rigid expenditure"; seeds 002 哈尔滨 / 003 织金 / 004 安徽: 就业成本扣减;
-- 001 蛟河: 家庭经济状况核对 incl. 金融资产; 000 高青 / 001 / 002: 支出型困难 刚性支出).
-- "Member" = member living at the end of M.
--
--   person income      = monthly_wage + monthly_pension + monthly_unemployment_benefit   (人社局)
--   household income   = Σ person income − Σ min(wage, employment_cost_deduction) over living
--                        members with a wage > 0 + counted other income
--   counted other inc. = other_income (roster or RR; else 0) − d                (rules-variants.md r2)
--                        d = min(other_income, support_income) when support_income_disregard is
--                        true and the household is a roster 低保 (in gradual exit or not) or
--                        低保边缘 household (seed 002:28 「对于低保家庭、低保边缘家庭不核算赡养抚养扶养费」);
--                        otherwise d = 0. The only concrete disregard in the seeds (rules-variants.md A.2).
--   income before deductions (TEKUN, 特困 WRONGFUL_INCLUSION) = Σ person income + other_income (no d)
--   pci                = household income / n;  S = standard of the county and 城乡类别
--   assets OK          = (financial assets unknown OR financial_assets / n ≤ asset_months · S)
--                        AND Σ property_count ≤ max_properties
--   rigid expenditure  = (Σ out-of-pocket M-11..M + Σ over 在读 members max(0, fees − aid)) / 12 / n
-- Comparisons below are made on totals (pci < S  ⇔  income < S · n) so they are exact.
-- Incomplete months (rules.md): without hr (人社局) the income is unknown — the sums below are
-- then a lower bound (other income only), income_known is false; without housing (住建局) the
-- properties are unknown and do not make assets "not OK" (properties_known false).

CREATE OR REPLACE TEMP TABLE hh_income AS
WITH deductions AS (
    SELECT hm.household_source, hm.household_id,
           sum(least(p.monthly_wage, pr.employment_cost_deduction)) AS wage_deductions
    FROM months.household_members_monthly hm
    JOIN months.persons_monthly p USING (id_number)
    JOIN months.households_monthly h USING (household_source, household_id)
    JOIN params pr ON pr.county_code = h.county_code
    WHERE hm.is_living AND p.monthly_wage > 0
    GROUP BY ALL
)
SELECT h.*,
       pr.effective_from AS policy_period,
       CASE WHEN h.urban_rural = '城市' THEN pr.dibao_standard_urban ELSE pr.dibao_standard_rural END AS standard,
       CASE WHEN h.urban_rural = '城市' THEN pr.expenditure_income_ceiling_urban ELSE pr.expenditure_income_ceiling_rural END AS expenditure_ceiling,
       (h.person_income_total + h.other_income)::DECIMAL(18,2) AS income_before_deductions,
       coalesce(d.wage_deductions, 0)::DECIMAL(18,2) AS wage_deductions,
       sd.support_income_disregarded,
       (h.person_income_total + h.other_income - sd.support_income_disregarded - coalesce(d.wage_deductions, 0))::DECIMAL(18,2) AS household_income,
       h.out_of_pocket_12m + h.education_net_cost AS rigid_expenditure_12m,
       pr.county_code IS NOT NULL AS has_policy
FROM months.households_monthly h
LEFT JOIN params pr ON pr.county_code = h.county_code
LEFT JOIN deductions d USING (household_source, household_id)
CROSS JOIN LATERAL (
    SELECT CASE WHEN coalesce(pr.support_income_disregard, false) AND h.household_source = 'civil_affairs'
                     AND h.roster_type IN ('低保', '低保边缘')
                THEN least(h.other_income, h.support_income) ELSE 0 END::DECIMAL(18,2) AS support_income_disregarded
) sd;

CREATE OR REPLACE TEMP TABLE hh_facts AS
SELECT i.*,
       CASE WHEN n_living > 0 THEN round(household_income / n_living, 2)::DECIMAL(18,2) END AS per_capita_income,
       CASE WHEN n_living > 0 THEN round(rigid_expenditure_12m / 12 / n_living, 2)::DECIMAL(18,2) END AS rigid_expenditure_per_capita,
       financial_assets IS NOT NULL AS financial_assets_known,
       (financial_assets IS NULL OR financial_assets <= p.asset_months * standard * n_living) AS financial_assets_ok,
       delivered('hr') AS income_known,
       delivered('housing') AS properties_known,
       NOT delivered('housing') OR property_total <= p.max_properties AS property_ok,
       (financial_assets IS NULL OR financial_assets <= p.asset_months * standard * n_living)
           AND (NOT delivered('housing') OR property_total <= p.max_properties) AS assets_ok,
       (p.asset_months * standard)::DECIMAL(18,2) AS asset_limit_per_capita
FROM hh_income i LEFT JOIN params p ON p.county_code = i.county_code;
