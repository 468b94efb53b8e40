-- Life events that need a caseworker (rules.md ZERO_EMPLOYMENT, STUDENT_DROPOUT, DANGEROUS_HOUSE,
-- DISASTER_AFFECTED; seeds 000–003: 零就业家庭就业援助; 001 蛟河 / 003 织金: 控辍保学、危房改造;
-- 000–003: 受灾人员救助). Members are living members.
--   ZERO_EMPLOYMENT    roster 城市 household with a living member aged 18–59, 劳动能力 有, not 在读,
--                      and no member 就业/灵活就业 in M
--   STUDENT_DROPOUT    member of a roster or rural-revitalization household with 学籍状态 辍学 in M (per member)
--   DANGEROUS_HOUSE    member of a roster or rural-revitalization household with 危房等级 C or D
--   DISASTER_AFFECTED  member of a considered household with an emergency record in M with 倒塌/严重损坏

INSERT INTO alert_hits
SELECT f.household_source, f.household_id, 'ZERO_EMPLOYMENT', NULL, NULL, 'NO_EMPLOYMENT',
       '城市家庭有 ' || f.able_working_age_not_studying || ' 名 18–59 岁有劳动能力且不在读的成员，本月无人就业',
       '人社局：家庭成员无就业或灵活就业记录；民政局：劳动能力 有', NULL
FROM hh_facts f
WHERE f.n_living > 0 AND f.household_source = 'civil_affairs' AND f.urban_rural = '城市'
  AND f.able_working_age_not_studying > 0 AND f.employed_living = 0;

INSERT INTO alert_hits
SELECT hm.household_source, hm.household_id, 'STUDENT_DROPOUT', hm.id_number, hm.name, 'DROPOUT',
       hm.name || '（' || coalesce(hm.age::VARCHAR, '?') || ' 岁）学籍状态为辍学',
       '教育局：' || coalesce(p.school, '') || ' ' || coalesce(p.school_stage, '') || ' 辍学', NULL
FROM stage.household_members_monthly hm JOIN stage.persons_monthly p USING (id_number)
JOIN hh_facts f USING (household_source, household_id)
WHERE f.n_living > 0 AND hm.is_living AND p.dropout AND hm.household_source IN ('civil_affairs', 'rural_revitalization');

INSERT INTO alert_hits
SELECT f.household_source, f.household_id, 'DANGEROUS_HOUSE', NULL, NULL, 'DANGEROUS_HOUSE_' || f.dangerous_house_grade,
       '家庭成员住房被鉴定为 ' || f.dangerous_house_grade || ' 级危房',
       '住建局：危房等级 ' || f.dangerous_house_grade, NULL
FROM hh_facts f
WHERE f.n_living > 0 AND f.dangerous_house_m AND f.household_source IN ('civil_affairs', 'rural_revitalization');

INSERT INTO alert_hits
SELECT f.household_source, f.household_id, 'DISASTER_AFFECTED', NULL, NULL, 'HOUSE_DAMAGED',
       '家庭本月受灾，房屋倒塌或严重损坏',
       '应急局：' || coalesce((SELECT string_agg(p.name || ' ' || p.disasters || '，直接经济损失 ' || yuan(p.max_direct_loss) || ' 元', '；' ORDER BY p.id_number)
                                FROM stage.household_members_monthly hm JOIN stage.persons_monthly p USING (id_number)
                                WHERE hm.household_source = f.household_source AND hm.household_id = f.household_id
                                  AND hm.is_living AND p.emergency_records_m > 0), ''), NULL
FROM hh_facts f
WHERE f.n_living > 0 AND f.living_member_disaster_m;
