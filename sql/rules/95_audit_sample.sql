-- reads: params, months.households_monthly, months.src_civil_affairs_decisions
-- 新增审批抽查 audit sample (rules.md "Audit sample"; rules-variants.md B.3 r7; seed 004:51
-- 「县（市、区）民政部门要加强监督指导，对乡镇（街道）审核确认（含申请未通过）的救助对象按照不低于30%的比例进行抽查」).
--   Population P  the roster households whose 保障开始月份 is M (source approved, region of M's roster).
--                 With audit_include_rejected, also every 家庭编号 with a 未通过 decision dated in M in
--                 civil_affairs_decisions (source rejected; its accepted rows are all dated in M). A
--                 household counts once: one both approved and rejected in M is approved. Its region is
--                 M's roster's if the roster lists it, otherwise that of its latest 未通过 decision.
--                 Decisions file missing or refused: P holds the approvals only (the report says so).
--   Town          the first 9 digits of the region code.
--   Draw          audit_per_town false: ceil(audit_sample_rate · |P|) per county (rules.md);
--                 audit_per_town true: ceil(audit_sample_rate · |P_t|) in each town t, which meets
--                 both readings of 004:51 (≥ the rate in every town and county-wide).
--                 Sorted by the lower-case hex SHA-256 of 'M|household_id', the first ones.
-- Reproducible and independent of row order. The rate is a county parameter (0 < rate ≤ 1; 004:51's
-- floor of 0.30 is the deployment's to keep).

CREATE OR REPLACE TABLE months.audit_sample AS
WITH approved AS (
    SELECT h.household_id, h.county_code, h.town_code, h.region_code, h.roster_type,
           'approved' AS source, NULL::VARCHAR AS applied_type
    FROM months.households_monthly h
    WHERE h.household_source = 'civil_affairs' AND h.since_month = getvariable('month')
), decided_rejected AS (
    SELECT household_id, arg_max(region_code, (decision_date, row_number)) AS decision_region,
           arg_max(applied_type, (decision_date, row_number)) AS applied_type
    FROM months.src_civil_affairs_decisions
    WHERE month = getvariable('month') AND decision = '未通过'
    GROUP BY household_id
), rejected AS (
    SELECT r.household_id, left(coalesce(h.region_code, r.decision_region), 6) AS county_code,
           left(coalesce(h.region_code, r.decision_region), 9) AS town_code,
           coalesce(h.region_code, r.decision_region) AS region_code, h.roster_type,
           'rejected' AS source, r.applied_type
    FROM decided_rejected r
    LEFT JOIN months.households_monthly h ON h.household_source = 'civil_affairs' AND h.household_id = r.household_id
    WHERE r.household_id NOT IN (SELECT household_id FROM approved)
), population AS (
    SELECT a.*, p.audit_per_town, p.audit_sample_rate FROM approved a JOIN params p USING (county_code)
    UNION ALL
    SELECT r.*, p.audit_per_town, p.audit_sample_rate FROM rejected r JOIN params p USING (county_code)
    WHERE p.audit_include_rejected
), grouped AS (
    SELECT *, CASE WHEN audit_per_town THEN 'town' ELSE 'county' END AS draw_scope,
           CASE WHEN audit_per_town THEN town_code ELSE county_code END AS draw_group,
           sha256(getvariable('month') || '|' || household_id) AS digest
    FROM population
), ranked AS (
    SELECT g.*, row_number() OVER w AS draw_rank,
           count(*) FILTER (WHERE source = 'approved') OVER w_all AS new_approvals,
           count(*) OVER w_all AS population,
           ceil(audit_sample_rate * count(*) OVER w_all)::INTEGER AS to_draw
    FROM grouped g
    WINDOW w AS (PARTITION BY county_code, draw_group ORDER BY digest),
           w_all AS (PARTITION BY county_code, draw_group)
)
SELECT getvariable('month') AS month, household_id, county_code, town_code, region_code, roster_type,
       draw_rank, digest, new_approvals, to_draw, source, applied_type, population, draw_scope
FROM ranked WHERE draw_rank <= to_draw;
