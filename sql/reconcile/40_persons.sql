-- persons_monthly: one row per person seen in month M by any department, with every
-- department's facts for M (rules.md "Income, assets, rigid expenditure"; interface.md).
-- History: M-1 (job loss) and M-11..M (out-of-pocket, serious illness, deaths) come from the
-- months already published in main.src_*; month M itself from months.src_* (this run).
-- Identical records after ID linking are counted once (DISTINCT on the content columns).
--
-- Everything here is per person, so the persons can be split into buckets by a hash of the ID
-- number: the view persons_bucket is the rows of bucket getvariable('bucket') of
-- getvariable('buckets'), and assets/reconcile.py writes months.persons_monthly bucket by bucket
-- (one bucket up to 8 M source rows: a county, a prefecture). Same rows; a bucket's aggregates
-- and joins fit in DuckDB's memory instead of spilling to disk (bench/PERF.md: the 5 M-household
-- month, 35 M rows, 154 s in one piece, 77-86 s in 4-8 buckets).

CREATE OR REPLACE TEMP MACRO in_bucket(id) AS hash(id) % getvariable('buckets') = getvariable('bucket');

CREATE OR REPLACE TEMP VIEW cur_members AS SELECT DISTINCT * EXCLUDE (file, row_number, raw, id_raw, link_method) FROM months.src_civil_affairs_members WHERE month = getvariable('month') AND in_bucket(id_number);
CREATE OR REPLACE TEMP VIEW cur_register AS SELECT * FROM months.src_household_registration WHERE month = getvariable('month') AND in_bucket(id_number);
CREATE OR REPLACE TEMP VIEW cur_rr AS SELECT * FROM months.src_rural_revitalization WHERE month = getvariable('month') AND in_bucket(id_number);
CREATE OR REPLACE TEMP VIEW cur_hr AS SELECT DISTINCT * EXCLUDE (file, row_number, raw, id_raw, link_method) FROM months.src_hr WHERE month = getvariable('month') AND in_bucket(id_number);
CREATE OR REPLACE TEMP VIEW cur_housing AS SELECT DISTINCT * EXCLUDE (file, row_number, raw, id_raw, link_method) FROM months.src_housing WHERE month = getvariable('month') AND in_bucket(id_number);
CREATE OR REPLACE TEMP VIEW cur_education AS SELECT DISTINCT * EXCLUDE (file, row_number, raw, id_raw, link_method) FROM months.src_education WHERE month = getvariable('month') AND in_bucket(id_number);
CREATE OR REPLACE TEMP VIEW cur_emergency AS SELECT DISTINCT * EXCLUDE (file, row_number, raw, id_raw, link_method) FROM months.src_emergency WHERE month = getvariable('month') AND in_bucket(id_number);
-- health and medical insurance up to M (history + this month)
CREATE OR REPLACE TEMP VIEW hist_health AS
    SELECT DISTINCT * EXCLUDE (file, row_number, raw, id_raw, link_method) FROM (
        SELECT * FROM main.src_health WHERE month < getvariable('month') AND in_bucket(id_number)
        UNION ALL BY NAME SELECT * FROM months.src_health WHERE month = getvariable('month') AND in_bucket(id_number));
CREATE OR REPLACE TEMP VIEW hist_medical AS
    SELECT DISTINCT * EXCLUDE (file, row_number, raw, id_raw, link_method) FROM (
        SELECT * FROM main.src_medical_insurance WHERE month >= getvariable('window_start') AND month < getvariable('month') AND in_bucket(id_number)
        UNION ALL BY NAME SELECT * FROM months.src_medical_insurance WHERE month = getvariable('month') AND in_bucket(id_number));

CREATE OR REPLACE TEMP VIEW persons_bucket AS
WITH ids AS (
    SELECT id_number FROM cur_members UNION SELECT id_number FROM cur_rr UNION SELECT id_number FROM cur_register
    UNION SELECT id_number FROM cur_hr UNION SELECT id_number FROM cur_housing UNION SELECT id_number FROM cur_education
    UNION SELECT id_number FROM cur_emergency
    UNION SELECT id_number FROM hist_health WHERE month = getvariable('month')
    UNION SELECT id_number FROM hist_medical WHERE month = getvariable('month')
), names AS (  -- the name as the roster, RR, register or a department wrote it (in that order)
    SELECT id_number, arg_min(name, pri) AS name FROM (
        SELECT id_number, name, 1 AS pri FROM cur_members UNION ALL SELECT id_number, name, 2 FROM cur_rr
        UNION ALL SELECT id_number, name, 3 FROM cur_register UNION ALL SELECT id_number, name, 4 FROM cur_hr
        UNION ALL SELECT id_number, name, 5 FROM cur_education UNION ALL SELECT id_number, name, 6 FROM cur_housing
        UNION ALL SELECT id_number, name, 7 FROM hist_health UNION ALL SELECT id_number, name, 8 FROM hist_medical
        UNION ALL SELECT id_number, name, 9 FROM cur_emergency) GROUP BY id_number
), reg AS (
    SELECT id_number, arg_min(hukou_id, row_number) AS hukou_id, arg_min(status, row_number) AS register_status,
           bool_or(status = '死亡注销') AS register_deceased
    FROM cur_register GROUP BY id_number
), hr AS (
    SELECT id_number,
           sum(coalesce(monthly_wage, 0)) AS monthly_wage,
           sum(coalesce(monthly_pension, 0)) AS monthly_pension,
           sum(coalesce(monthly_unemployment_benefit, 0)) AS monthly_unemployment_benefit,
           string_agg(DISTINCT employment_status, '/' ORDER BY employment_status) AS employment_status,
           bool_or(employment_status IN ('就业', '灵活就业')) AS employed,
           bool_or(employment_status IN ('失业登记', '未就业')) AND NOT bool_or(employment_status IN ('就业', '灵活就业')) AS unemployed
    FROM cur_hr GROUP BY id_number
), hr_prev AS (
    SELECT id_number, bool_or(employment_status IN ('就业', '灵活就业')) AS employed_prev,
           string_agg(DISTINCT employment_status, '/' ORDER BY employment_status) AS employment_status_prev
    FROM main.src_hr WHERE month = getvariable('prev_month') AND in_bucket(id_number) GROUP BY id_number
), housing AS (
    SELECT id_number, sum(property_count) AS property_count, sum(coalesce(provident_fund_monthly, 0)) AS provident_fund_monthly,
           bool_or(public_rental = '是') AS public_rental, max(dangerous_house_grade) AS dangerous_house_grade
    FROM cur_housing GROUP BY id_number
), edu AS (
    SELECT id_number,
           string_agg(DISTINCT enrollment_status, '/' ORDER BY enrollment_status) AS enrollment_status,
           string_agg(DISTINCT stage, '/' ORDER BY stage) AS school_stage,
           string_agg(DISTINCT school, '/' ORDER BY school) AS school,
           bool_or(enrollment_status = '在读') AS studying,
           bool_or(enrollment_status = '辍学') AS dropout,
           sum(CASE WHEN enrollment_status = '在读' THEN greatest(0, annual_fees - aid_received) ELSE 0 END) AS education_net_cost,
           sum(CASE WHEN enrollment_status = '在读' THEN annual_fees ELSE 0 END) AS annual_fees,
           sum(CASE WHEN enrollment_status = '在读' THEN aid_received ELSE 0 END) AS aid_received
    FROM cur_education GROUP BY id_number
), health AS (
    SELECT id_number,
           bool_or(month = getvariable('month') AND event_type = '重大疾病') AS serious_illness_m,
           bool_or(event_type = '重大疾病') AS serious_illness_to_m,
           bool_or(month = getvariable('month') AND event_type = '死亡') AS death_event_m,
           min(CASE WHEN event_type = '死亡' THEN event_date END) AS death_date,
           count(*) FILTER (WHERE month = getvariable('month')) AS health_events_m,
           string_agg(DISTINCT CASE WHEN event_type = '重大疾病' THEN coalesce(diagnosis, '重大疾病') END, '、') AS serious_diagnoses
    FROM hist_health GROUP BY id_number
), med AS (
    SELECT id_number,
           sum(out_of_pocket) FILTER (WHERE month = getvariable('month')) AS out_of_pocket_m,
           sum(out_of_pocket) AS out_of_pocket_12m,
           count(*) FILTER (WHERE month = getvariable('month')) AS settlements_m,
           count(DISTINCT month) AS medical_months
    FROM hist_medical GROUP BY id_number
), emg AS (
    SELECT id_number, count(*) AS emergency_records_m,
           bool_or(house_damage IN ('倒塌', '严重损坏')) AS house_severely_damaged,
           max(direct_loss) AS max_direct_loss, sum(direct_loss) AS direct_loss,
           string_agg(DISTINCT disaster_type || '（房屋' || house_damage || '）', '、') AS disasters
    FROM cur_emergency GROUP BY id_number
)
SELECT getvariable('month') AS month,
       ids.id_number,
       names.name,
       try_strptime(substr(ids.id_number, 7, 8), '%Y%m%d')::DATE AS birth_date,
       CASE WHEN try_strptime(substr(ids.id_number, 7, 8), '%Y%m%d') IS NOT NULL THEN
           year(getvariable('month_end')::DATE) - year(strptime(substr(ids.id_number, 7, 8), '%Y%m%d'))
           - CASE WHEN strftime(getvariable('month_end')::DATE, '%m%d') < substr(ids.id_number, 11, 4) THEN 1 ELSE 0 END
       END AS age,
       CASE WHEN try_cast(substr(ids.id_number, 17, 1) AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END AS sex,
       reg.hukou_id, reg.register_status,
       (coalesce(health.death_date <= getvariable('month_end')::DATE, false) OR coalesce(reg.register_deceased, false)) AS is_dead,
       CASE WHEN health.death_date IS NOT NULL THEN '卫健委死亡记录 ' || strftime(health.death_date, '%Y-%m-%d')
            WHEN reg.register_deceased THEN '公安户籍死亡注销' END AS death_evidence,
       hr.employment_status, coalesce(hr.employed, false) AS employed, coalesce(hr.unemployed, false) AS unemployed,
       coalesce(hr.monthly_wage, 0)::DECIMAL(18,2) AS monthly_wage,
       coalesce(hr.monthly_pension, 0)::DECIMAL(18,2) AS monthly_pension,
       coalesce(hr.monthly_unemployment_benefit, 0)::DECIMAL(18,2) AS monthly_unemployment_benefit,
       (coalesce(hr.monthly_wage, 0) + coalesce(hr.monthly_pension, 0) + coalesce(hr.monthly_unemployment_benefit, 0))::DECIMAL(18,2) AS person_income,
       hr_prev.employment_status_prev, coalesce(hr_prev.employed_prev, false) AS employed_prev,
       coalesce(housing.property_count, 0) AS property_count, housing.provident_fund_monthly, housing.public_rental,
       housing.dangerous_house_grade,
       edu.enrollment_status, edu.school_stage, edu.school, coalesce(edu.studying, false) AS studying,
       coalesce(edu.dropout, false) AS dropout, coalesce(edu.education_net_cost, 0)::DECIMAL(18,2) AS education_net_cost,
       edu.annual_fees, edu.aid_received,
       coalesce(health.serious_illness_m, false) AS serious_illness_m,
       coalesce(health.serious_illness_to_m, false) AS serious_illness_to_m,
       coalesce(health.death_event_m, false) AS death_event_m,
       health.death_date, coalesce(health.health_events_m, 0) AS health_events_m, health.serious_diagnoses,
       coalesce(med.out_of_pocket_m, 0)::DECIMAL(18,2) AS out_of_pocket_m,
       coalesce(med.out_of_pocket_12m, 0)::DECIMAL(18,2) AS out_of_pocket_12m,
       coalesce(med.settlements_m, 0) AS settlements_m,
       coalesce(emg.emergency_records_m, 0) AS emergency_records_m,
       coalesce(emg.house_severely_damaged, false) AS house_severely_damaged,
       coalesce(emg.max_direct_loss, 0)::DECIMAL(18,2) AS max_direct_loss, emg.disasters,
       -- a signal that brings a registered household into screening (rules.md "Households considered" 3)
       (coalesce(hr.unemployed, false) OR coalesce(hr.employment_status LIKE '%失业登记%' OR hr.employment_status LIKE '%未就业%', false)
        OR coalesce(med.settlements_m, 0) > 0 OR coalesce(health.health_events_m, 0) > 0
        OR coalesce(emg.emergency_records_m, 0) > 0 OR coalesce(edu.dropout, false)
        OR coalesce(housing.dangerous_house_grade IN ('C', 'D'), false)) AS has_signal
FROM ids
LEFT JOIN names USING (id_number) LEFT JOIN reg USING (id_number) LEFT JOIN hr USING (id_number)
LEFT JOIN hr_prev USING (id_number) LEFT JOIN housing USING (id_number) LEFT JOIN edu USING (id_number)
LEFT JOIN health USING (id_number) LEFT JOIN med USING (id_number) LEFT JOIN emg USING (id_number);
