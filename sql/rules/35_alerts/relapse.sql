-- reads: hh_facts, params, months.determinations
-- 返贫致贫风险 RELAPSE_RISK (rules.md; seeds 004 安徽 (民政与乡村振兴部门 监测帮扶 衔接) and
-- 000 高青县 (低保边缘、支出型困难家庭 监测预警)). A monitored household — rural revitalization: every 脱贫户 whatever
-- 风险已消除, other categories only with 风险已消除 否; or roster 低保边缘 / 支出型困难 — with at
-- least one shock in M. Each shock is a reason code:
--   ILLNESS      重大疾病 event in M (any listed member)
--   MEDICAL_COST living members' out-of-pocket over M-11..M ≥ medical_shock_12m
--   DISASTER     emergency record in M with 倒塌/严重损坏 or direct loss ≥ disaster_loss_shock
--   JOB_LOSS     a member 就业/灵活就业 in M-1 and 失业登记/未就业 in M (none when M-1's hr has not landed)
--   DEATH        a health 死亡 event dated in M
--   DROPOUT      辍学 in M
--   LOW_INCOME   rural revitalization only: 家庭年人均纯收入 < relapse_income_threshold
-- priority_raised (the catalogue's raised_priority 高 instead of 中, rules.md "Priority"): ≥ 2 shocks,
-- or determination DIBAO/TEKUN.

CREATE OR REPLACE TEMP VIEW alert_hits_relapse AS
WITH s AS (
    SELECT f.household_source, f.household_id, f.out_of_pocket_12m, f.max_direct_loss_m, f.rr_annual_income_per_capita,
           f.illness_m AS illness,
           f.out_of_pocket_12m >= p.medical_shock_12m AS medical_cost,
           f.house_severely_damaged_m OR f.max_direct_loss_m >= p.disaster_loss_shock AS disaster,
           f.job_loss_m AS job_loss,
           f.death_m AS death,
           f.dropout_m AS dropout,
           f.household_source = 'rural_revitalization' AND f.rr_annual_income_per_capita < p.relapse_income_threshold AS low_income,
           p.relapse_income_threshold, p.medical_shock_12m,
           coalesce(f.rr_category, f.roster_type) AS monitored_as, d.category
    FROM hh_facts f JOIN params p ON p.county_code = f.county_code
    LEFT JOIN months.determinations d USING (household_source, household_id)
    WHERE f.n_living > 0
      AND ((f.household_source = 'rural_revitalization' AND (f.rr_category = '脱贫户' OR f.rr_risk_eliminated = '否'))
           OR (f.household_source = 'civil_affairs' AND f.roster_type IN ('低保边缘', '支出型困难')))
)
SELECT household_source, household_id, 'RELAPSE_RISK' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name,
       concat_ws(',', CASE WHEN illness THEN 'ILLNESS' END, CASE WHEN medical_cost THEN 'MEDICAL_COST' END,
                      CASE WHEN disaster THEN 'DISASTER' END, CASE WHEN job_loss THEN 'JOB_LOSS' END,
                      CASE WHEN death THEN 'DEATH' END, CASE WHEN dropout THEN 'DROPOUT' END,
                      CASE WHEN low_income THEN 'LOW_INCOME' END) AS reasons,
       monitored_as || '本月出现风险：' || concat_ws('、',
           CASE WHEN illness THEN '家庭成员患重大疾病' END,
           CASE WHEN medical_cost THEN '近 12 个月个人自付医疗费用 ' || yuan(out_of_pocket_12m) || ' 元，达到 ' || yuan(medical_shock_12m) || ' 元' END,
           CASE WHEN disaster THEN '遭受自然灾害或意外事故（直接经济损失 ' || yuan(max_direct_loss_m) || ' 元）' END,
           CASE WHEN job_loss THEN '家庭成员失业' END,
           CASE WHEN death THEN '家庭成员死亡' END,
           CASE WHEN dropout THEN '学生辍学' END,
           CASE WHEN low_income THEN '家庭年人均纯收入 ' || yuan(rr_annual_income_per_capita) || ' 元，低于监测线 ' || yuan(relapse_income_threshold) || ' 元' END) AS reason_text,
       concat_ws('；',
           CASE WHEN illness THEN '卫健委：本月重大疾病记录' END,
           CASE WHEN medical_cost THEN '医保局：近 12 个月个人自付 ' || yuan(out_of_pocket_12m) || ' 元' END,
           CASE WHEN disaster THEN '应急局：本月受灾记录' END,
           CASE WHEN job_loss THEN '人社局：上月就业、本月失业或未就业' END,
           CASE WHEN death THEN '卫健委：本月死亡记录' END,
           CASE WHEN dropout THEN '教育局：学籍状态 辍学' END,
           CASE WHEN low_income THEN '乡村振兴局：家庭年人均纯收入 ' || yuan(rr_annual_income_per_capita) || ' 元' END) AS evidence,
       (illness::INT + medical_cost::INT + disaster::INT + job_loss::INT + death::INT + dropout::INT + low_income::INT) >= 2
           OR category IN ('DIBAO', 'TEKUN') AS priority_raised
FROM s
WHERE illness OR medical_cost OR disaster OR job_loss OR death OR dropout OR low_income;
