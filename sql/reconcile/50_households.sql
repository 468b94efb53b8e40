-- Households considered in month M (rules.md "Households considered in month M"):
--   1. roster households (civil_affairs_households) with their members;
--   2. rural-revitalization households sharing no member with a roster household
--      (农村, the extract's 行政区划代码; household columns from the 户主's row);
--   3. registered households (户号, 正常 members) none of whose register rows is a member of
--      1 or 2, and only if one of their 正常 members has a signal in M.
-- Where a person is in several, the roster wins. The dead do not count in the size n.

-- Roster households: one row per 家庭编号 (the first row wins if a file repeats one).
CREATE OR REPLACE TEMP TABLE roster_households AS
SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (PARTITION BY household_id ORDER BY row_number) AS rn
    FROM months.src_civil_affairs_households WHERE month = getvariable('month')) WHERE rn = 1;

CREATE OR REPLACE TEMP TABLE roster_member_rows AS
SELECT * EXCLUDE (rn) FROM (
    SELECT m.*, row_number() OVER (PARTITION BY m.household_id, m.id_number ORDER BY m.row_number) AS rn
    FROM months.src_civil_affairs_members m
    WHERE m.month = getvariable('month')
      AND m.household_id IN (SELECT household_id FROM roster_households)) WHERE rn = 1;

-- Rural-revitalization households: members, and household columns from the 户主's row
-- (or, without one, the row with the smallest ID number).
CREATE OR REPLACE TEMP TABLE rr_member_rows AS
SELECT * EXCLUDE (rn) FROM (
    SELECT r.*, row_number() OVER (PARTITION BY r.rr_household_id, r.id_number ORDER BY r.row_number) AS rn
    FROM months.src_rural_revitalization r WHERE r.month = getvariable('month')) WHERE rn = 1;

CREATE OR REPLACE TEMP TABLE rr_households AS
SELECT * EXCLUDE (rn) FROM (
    SELECT rr_household_id, region_code, category, risk_eliminated, annual_net_income_per_capita, other_income,
           id_number AS head_id_number, name AS head_name,
           row_number() OVER (PARTITION BY rr_household_id
                              ORDER BY (relation = '户主') DESC, id_number, row_number) AS rn
    FROM rr_member_rows) WHERE rn = 1
  AND rr_household_id NOT IN (
        SELECT rr_household_id FROM rr_member_rows
        WHERE id_number IN (SELECT id_number FROM roster_member_rows));

-- Registered households: excluded when any of their rows (正常 or not) is a member of 1 or 2.
CREATE OR REPLACE TEMP TABLE register_households AS
WITH taken AS (
    SELECT id_number FROM roster_member_rows
    UNION SELECT id_number FROM rr_member_rows WHERE rr_household_id IN (SELECT rr_household_id FROM rr_households)
), reg AS (
    SELECT * FROM months.src_household_registration WHERE month = getvariable('month')
), eligible AS (
    SELECT hukou_id FROM reg GROUP BY hukou_id
    HAVING NOT bool_or(id_number IN (SELECT id_number FROM taken))
       AND bool_or(status = '正常')
), signalled AS (
    SELECT DISTINCT r.hukou_id FROM reg r JOIN months.persons_monthly p USING (id_number)
    WHERE r.status = '正常' AND p.has_signal AND r.hukou_id IN (SELECT hukou_id FROM eligible)
)
SELECT * EXCLUDE (rn) FROM (
    SELECT hukou_id, region_code, urban_rural, id_number AS head_id_number, name AS head_name,
           row_number() OVER (PARTITION BY hukou_id ORDER BY (relation = '户主') DESC, id_number, row_number) AS rn
    FROM reg WHERE status = '正常' AND hukou_id IN (SELECT hukou_id FROM signalled)) WHERE rn = 1;

-- Members of every considered household (a person in two roster households is in both).
CREATE OR REPLACE TABLE months.household_members_monthly AS
WITH m AS (
    SELECT 'civil_affairs' AS household_source, household_id, id_number, name, relation,
           disability_type, disability_level, labor_capacity,
           care_level, veteran_disability_grade, preferential_category, regular_pension_subsidy
    FROM roster_member_rows
    UNION ALL
    SELECT 'rural_revitalization', rr_household_id, id_number, name, relation, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM rr_member_rows WHERE rr_household_id IN (SELECT rr_household_id FROM rr_households)
    UNION ALL
    SELECT 'household_registration', hukou_id, id_number, name, relation, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM months.src_household_registration
    WHERE month = getvariable('month') AND status = '正常' AND hukou_id IN (SELECT hukou_id FROM register_households)
)
SELECT getvariable('month') AS month, m.household_source, m.household_id, m.id_number, m.name, m.relation,
       m.disability_type, m.disability_level, m.labor_capacity,
       -- rules-variants.md B.2 (optional roster columns): 护理等级; 残疾军人等级 一级…十级 as 1…10
       -- (not a 残疾等级: it counts only where r3/r4 name it); 优抚对象类别; 定期抚恤补助 (empty = 否)
       m.care_level,
       list_position(['一级', '二级', '三级', '四级', '五级', '六级', '七级', '八级', '九级', '十级'],
                     m.veteran_disability_grade)::INTEGER AS veteran_disability_grade,
       m.preferential_category, coalesce(m.regular_pension_subsidy = '是', false) AS regular_pension_subsidy,
       NOT coalesce(p.is_dead, false) AS is_living, p.age,
       m.disability_level IS NOT NULL AS is_disabled,
       -- no labour capacity by disability (rules.md TEKUN), or 劳动能力 无 in the roster
       coalesce((m.disability_type = '肢体' AND m.disability_level IN ('一级', '二级'))
             OR (m.disability_type = '视力' AND m.disability_level = '一级')
             OR (m.disability_type IN ('智力', '精神') AND m.disability_level IN ('一级', '二级', '三级'))
             OR (m.disability_type = '多重' AND m.disability_level IN ('一级', '二级'))
             OR m.labor_capacity = '无', false) AS no_labor_capacity
FROM m LEFT JOIN months.persons_monthly p USING (id_number);

-- Household facts: the household's own columns and its members' department facts.
-- Sums over members use living members only; shocks other than MEDICAL_COST look at every
-- listed member (rules.md "Income, assets, rigid expenditure").
CREATE OR REPLACE TABLE months.households_monthly AS
WITH hh AS (
    SELECT 'civil_affairs' AS household_source, household_id, region_code, urban_rural,
           assistance_type AS roster_type, since_month, gradual_exit_since, monthly_benefit,
           other_income, financial_assets, last_review_date,
           support_mode, support_income, pre_exit_benefit,   -- rules-variants.md B.2 (optional)
           NULL::VARCHAR AS rr_category, NULL::VARCHAR AS rr_risk_eliminated,
           NULL::DECIMAL(18,2) AS rr_annual_income_per_capita, NULL::VARCHAR AS head_id_hint, NULL::VARCHAR AS head_name_hint
    FROM roster_households
    UNION ALL
    SELECT 'rural_revitalization', rr_household_id, region_code, '农村', NULL, NULL, NULL, NULL,
           coalesce(other_income, 0), NULL, NULL, NULL, NULL, NULL, category, risk_eliminated, annual_net_income_per_capita,
           head_id_number, head_name
    FROM rr_households
    UNION ALL
    SELECT 'household_registration', hukou_id, region_code, urban_rural, NULL, NULL, NULL, NULL,
           0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, head_id_number, head_name
    FROM register_households
), mem AS (
    SELECT hm.*, p.* EXCLUDE (month, id_number, name, age)
    FROM months.household_members_monthly hm LEFT JOIN months.persons_monthly p USING (id_number)
), agg AS (
    SELECT household_source, household_id,
           count(*) AS n_listed,
           count(*) FILTER (WHERE is_living) AS n_living,
           arg_min(id_number, (relation <> '户主', id_number)) AS roster_head_id,
           arg_min(name, (relation <> '户主', id_number)) AS roster_head_name,
           coalesce(sum(person_income) FILTER (WHERE is_living), 0) AS person_income_total,
           coalesce(sum(monthly_wage) FILTER (WHERE is_living), 0) AS wage_total,
           coalesce(sum(monthly_pension) FILTER (WHERE is_living), 0) AS pension_total,
           coalesce(sum(monthly_unemployment_benefit) FILTER (WHERE is_living), 0) AS unemployment_benefit_total,
           coalesce(sum(property_count) FILTER (WHERE is_living), 0) AS property_total,
           coalesce(sum(out_of_pocket_12m) FILTER (WHERE is_living), 0) AS out_of_pocket_12m,
           coalesce(sum(education_net_cost) FILTER (WHERE is_living AND studying), 0) AS education_net_cost,
           count(*) FILTER (WHERE is_living AND is_disabled) AS disabled_living,
           count(*) FILTER (WHERE is_living AND employed) AS employed_living,
           bool_and(is_living IS NOT TRUE OR age >= 60 OR age < 18 OR no_labor_capacity) AS all_living_unable,
           count(*) FILTER (WHERE is_living AND age BETWEEN 18 AND 59 AND labor_capacity = '有') AS able_working_age_living,
           count(*) FILTER (WHERE is_living AND age BETWEEN 18 AND 59 AND labor_capacity = '有' AND NOT studying) AS able_working_age_not_studying,
           -- shocks and events: every listed member
           bool_or(serious_illness_m) AS illness_m,
           bool_or(death_event_m) AS death_m,
           bool_or(dropout) AS dropout_m,
           bool_or(emergency_records_m > 0) AS emergency_m,
           bool_or(house_severely_damaged) AS house_severely_damaged_m,
           max(max_direct_loss) AS max_direct_loss_m,
           bool_or(employed_prev AND unemployed) AS job_loss_m,
           bool_or(is_living AND emergency_records_m > 0 AND house_severely_damaged) AS living_member_disaster_m,
           bool_or(is_living AND dangerous_house_grade IN ('C', 'D')) AS dangerous_house_m,
           max(dangerous_house_grade) FILTER (WHERE is_living) AS dangerous_house_grade
    FROM mem GROUP BY household_source, household_id
)
SELECT getvariable('month') AS month, hh.household_source, hh.household_id,
       hh.region_code, left(hh.region_code, 6) AS county_code, left(hh.region_code, 9) AS town_code,
       hh.region_code AS village_code, hh.urban_rural, hh.roster_type, hh.since_month,
       hh.gradual_exit_since, hh.gradual_exit_since IS NOT NULL AS in_gradual_exit,
       hh.monthly_benefit, coalesce(hh.other_income, 0)::DECIMAL(18,2) AS other_income, hh.financial_assets,
       hh.last_review_date, hh.support_mode, coalesce(hh.support_income, 0)::DECIMAL(18,2) AS support_income,
       hh.pre_exit_benefit::DECIMAL(18,2) AS pre_exit_benefit, hh.rr_category, hh.rr_risk_eliminated, hh.rr_annual_income_per_capita,
       coalesce(hh.head_id_hint, agg.roster_head_id) AS head_id_number,
       coalesce(hh.head_name_hint, agg.roster_head_name) AS head_name,
       coalesce(agg.n_listed, 0) AS n_listed, coalesce(agg.n_living, 0) AS n_living,
       coalesce(agg.person_income_total, 0)::DECIMAL(18,2) AS person_income_total,
       coalesce(agg.wage_total, 0)::DECIMAL(18,2) AS wage_total,
       coalesce(agg.pension_total, 0)::DECIMAL(18,2) AS pension_total,
       coalesce(agg.unemployment_benefit_total, 0)::DECIMAL(18,2) AS unemployment_benefit_total,
       coalesce(agg.property_total, 0) AS property_total,
       coalesce(agg.out_of_pocket_12m, 0)::DECIMAL(18,2) AS out_of_pocket_12m,
       coalesce(agg.education_net_cost, 0)::DECIMAL(18,2) AS education_net_cost,
       coalesce(agg.disabled_living, 0) AS disabled_living,
       coalesce(agg.employed_living, 0) AS employed_living,
       coalesce(agg.all_living_unable, false) AS all_living_unable,
       coalesce(agg.able_working_age_living, 0) AS able_working_age_living,
       coalesce(agg.able_working_age_not_studying, 0) AS able_working_age_not_studying,
       coalesce(agg.illness_m, false) AS illness_m, coalesce(agg.death_m, false) AS death_m,
       coalesce(agg.dropout_m, false) AS dropout_m, coalesce(agg.emergency_m, false) AS emergency_m,
       coalesce(agg.house_severely_damaged_m, false) AS house_severely_damaged_m,
       coalesce(agg.max_direct_loss_m, 0)::DECIMAL(18,2) AS max_direct_loss_m,
       coalesce(agg.job_loss_m, false) AND getvariable('prev_hr_landed') AS job_loss_m,
       coalesce(agg.living_member_disaster_m, false) AS living_member_disaster_m,
       coalesce(agg.dangerous_house_m, false) AS dangerous_house_m, agg.dangerous_house_grade
FROM hh LEFT JOIN agg USING (household_source, household_id);
