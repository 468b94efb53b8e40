-- reads: hh_facts, months.household_members_monthly, months.persons_monthly
-- Life events that need a caseworker (rules.md ZERO_EMPLOYMENT, STUDENT_DROPOUT, DANGEROUS_HOUSE,
-- DISASTER_AFFECTED; seeds 000–003: 零就业家庭就业援助; 001 蛟河 / 003 织金: 控辍保学、危房改造;
-- 000–003: 受灾人员救助). Members are living members.
--   ZERO_EMPLOYMENT    roster 城市 household with a living member aged 18–59, 劳动能力 有, not 在读,
--                      and no member 就业/灵活就业 in M
--   STUDENT_DROPOUT    member of a roster or rural-revitalization household with 学籍状态 辍学 in M (per member)
--   DANGEROUS_HOUSE    member of a roster or rural-revitalization household with 危房等级 C or D
--   DISASTER_AFFECTED  member of a considered household with an emergency record in M with 倒塌/严重损坏

CREATE OR REPLACE TEMP VIEW alert_hits_life AS
SELECT f.household_source, f.household_id, 'ZERO_EMPLOYMENT' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'NO_EMPLOYMENT' AS reasons,
       '城市家庭有 ' || f.able_working_age_not_studying || ' 名 18–59 岁有劳动能力且不在读的成员，本月无人就业' AS reason_text,
       '人社局：家庭成员无就业或灵活就业记录；民政局：劳动能力 有' AS evidence, false AS priority_raised
FROM hh_facts f
WHERE f.n_living > 0 AND f.household_source = 'civil_affairs' AND f.urban_rural = '城市'
  AND f.able_working_age_not_studying > 0 AND f.employed_living = 0
UNION ALL
SELECT hm.household_source, hm.household_id, 'STUDENT_DROPOUT' AS alert_type, hm.id_number AS member_id_number, hm.name AS member_name, 'DROPOUT' AS reasons,
       hm.name || '（' || coalesce(hm.age::VARCHAR, '?') || ' 岁）学籍状态为辍学' AS reason_text,
       '教育局：' || coalesce(p.school, '') || ' ' || coalesce(p.school_stage, '') || ' 辍学' AS evidence, false AS priority_raised
FROM months.household_members_monthly hm JOIN months.persons_monthly p USING (id_number)
JOIN hh_facts f USING (household_source, household_id)
WHERE f.n_living > 0 AND hm.is_living AND p.dropout AND hm.household_source IN ('civil_affairs', 'rural_revitalization')
UNION ALL
SELECT f.household_source, f.household_id, 'DANGEROUS_HOUSE' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'DANGEROUS_HOUSE_' || f.dangerous_house_grade AS reasons,
       '家庭成员住房被鉴定为 ' || f.dangerous_house_grade || ' 级危房' AS reason_text,
       '住建局：危房等级 ' || f.dangerous_house_grade AS evidence, false AS priority_raised
FROM hh_facts f
WHERE f.n_living > 0 AND f.dangerous_house_m AND f.household_source IN ('civil_affairs', 'rural_revitalization')
UNION ALL
SELECT f.household_source, f.household_id, 'DISASTER_AFFECTED' AS alert_type, NULL::VARCHAR AS member_id_number, NULL::VARCHAR AS member_name, 'HOUSE_DAMAGED' AS reasons,
       '家庭本月受灾，房屋倒塌或严重损坏' AS reason_text,
       '应急局：' || coalesce((SELECT string_agg(p.name || ' ' || p.disasters || '，直接经济损失 ' || yuan(p.max_direct_loss) || ' 元', '；' ORDER BY p.id_number)
                                FROM months.household_members_monthly hm JOIN months.persons_monthly p USING (id_number)
                                WHERE hm.household_source = f.household_source AND hm.household_id = f.household_id
                                  AND hm.is_living AND p.emergency_records_m > 0), '') AS evidence, false AS priority_raised
FROM hh_facts f
WHERE f.n_living > 0 AND f.living_member_disaster_m;
