-- Alert catalogue and shared evidence (rules.md "Alerts"). Every alert rule file below appends
-- to alert_hits: which household (and member), the reason codes, a plain-Chinese reason and
-- the evidence (which department said what). 90_alerts_finish.sql adds priority, status,
-- first month, id and suggested action.

CREATE OR REPLACE TEMP MACRO yuan(x) AS regexp_replace(printf('%.2f', x), '\.?0+$', '');

CREATE OR REPLACE TEMP TABLE alert_types (alert_type VARCHAR, alert_name VARCHAR, base_priority VARCHAR, action VARCHAR);
INSERT INTO alert_types VALUES
 ('TEKUN_CANDIDATE',      '疑似特困',           '高', '入户核实家庭成员年龄、残疾和收入情况，符合条件的按程序纳入特困人员救助供养'),
 ('DIBAO_OMISSION',       '疑似漏保（低保）',   '高', '入户核实家庭收入和财产，告知低保申请渠道，符合条件的依申请或主动发现纳入低保'),
 ('MARGINAL_OMISSION',    '疑似漏保（低保边缘）','中', '入户核实家庭收入和财产，符合条件的认定为低保边缘家庭，给予相应专项救助'),
 ('EXPENDITURE_HARDSHIP', '支出型困难',         '中', '核实医疗、教育等刚性支出票据，符合条件的认定为刚性支出困难家庭，落实临时救助和专项救助'),
 ('SINGLE_PERSON_DIBAO',  '单人户纳入低保',     '中', '核实该成员残疾或重病情况，符合条件的按单人户纳入低保'),
 ('RELAPSE_RISK',         '返贫致贫风险',       '中', '会同乡村振兴部门入户核实风险，及时落实帮扶和救助措施'),
 ('GRADUAL_EXIT_START',   '应启动渐退',         '中', '核实家庭收入变化，符合条件的启动低保渐退，渐退期内保持救助'),
 ('GRADUAL_EXIT_REVERT',  '渐退期重新符合',     '中', '家庭收入重新低于标准，核实后恢复正常低保待遇'),
 ('GRADUAL_EXIT_END',     '渐退期满',           '中', '渐退期已满且收入不低于标准，核实后办理低保退出'),
 ('WRONGFUL_INCLUSION',   '疑似错保',           '中', '入户复核家庭收入和财产，不再符合条件的按程序停发或调整救助类别'),
 ('DECEASED_RECIPIENT',   '死亡未停发',         '高', '核实死亡信息，及时办理减员或停发，追回多发资金'),
 ('BENEFIT_MISMATCH',     '保障金额异常',       '低', '核对本月发放金额与按规则测算金额，差额较大的查明原因并调整'),
 ('ZERO_EMPLOYMENT',      '零就业家庭',         '低', '推送人社部门开展就业援助，优先安排公益性岗位'),
 ('STUDENT_DROPOUT',      '学生辍学',           '低', '会同教育部门劝返复学，落实教育资助'),
 ('DANGEROUS_HOUSE',      '危房',               '低', '推送住建部门纳入农村危房改造或住房保障'),
 ('DISASTER_AFFECTED',    '受灾',               '高', '会同应急部门核实灾情，及时落实受灾人员救助和临时救助'),
 ('REVIEW_DUE',           '到期复核',           '低', '按期入户复核家庭经济状况，更新核查日期'),
 ('DUPLICATE_ASSISTANCE', '重复救助',           '低', '核实该成员实际所在家庭，从其他家庭名单中剔除，避免重复享受救助');

CREATE OR REPLACE TEMP TABLE alert_hits (
    household_source VARCHAR, household_id VARCHAR, alert_type VARCHAR,
    member_id_number VARCHAR, member_name VARCHAR, reasons VARCHAR, reason_text VARCHAR,
    evidence VARCHAR, relapse_shocks INTEGER);

-- Evidence strings shared by several rules: what each department said about income and assets.
CREATE OR REPLACE TEMP TABLE hh_evidence AS
WITH inc AS (
    SELECT hm.household_source, hm.household_id,
           string_agg(hm.name || ' ' ||
               concat_ws('、',
                   CASE WHEN p.monthly_wage > 0 THEN '月工资 ' || yuan(p.monthly_wage) || ' 元' END,
                   CASE WHEN p.monthly_pension > 0 THEN '月养老金 ' || yuan(p.monthly_pension) || ' 元' END,
                   CASE WHEN p.monthly_unemployment_benefit > 0 THEN '月失业保险金 ' || yuan(p.monthly_unemployment_benefit) || ' 元' END),
               '；' ORDER BY hm.id_number) FILTER (WHERE p.person_income > 0) AS income_parts
    FROM stage.household_members_monthly hm JOIN stage.persons_monthly p USING (id_number)
    WHERE hm.is_living GROUP BY ALL
)
SELECT f.household_source, f.household_id,
       '人社局：' || coalesce(inc.income_parts, '无工资、养老金、失业保险金记录') ||
       CASE WHEN f.wage_deductions > 0 THEN '（扣减就业成本 ' || yuan(f.wage_deductions) || ' 元）' ELSE '' END ||
       '；' || CASE f.household_source WHEN 'civil_affairs' THEN '民政局' WHEN 'rural_revitalization' THEN '乡村振兴局' ELSE '（无申报）' END ||
       '：家庭其他月收入 ' || yuan(f.other_income) || ' 元；家庭 ' || f.n_living || ' 人，人均月收入 ' ||
       coalesce(yuan(f.per_capita_income), '—') || ' 元' AS income_evidence,
       CASE WHEN NOT f.financial_assets_known THEN '家庭金融资产未申报，需入户核实'
            ELSE '民政局：家庭金融资产 ' || yuan(f.financial_assets) || ' 元（人均上限 ' || yuan(f.asset_limit_per_capita) || ' 元）' END
       || '；住建局：房产 ' || f.property_total || ' 套' AS assets_evidence
FROM hh_facts f LEFT JOIN inc USING (household_source, household_id);
