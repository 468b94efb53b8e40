-- 新增审批抽查 audit sample (rules.md "Audit sample"; seed 004 安徽: 县级民政部门对乡镇（街道）审核确认的
-- 救助对象按照不低于 30% 的比例进行抽查). Of the k roster households whose 保障开始月份 is M, ceil(audit_sample_rate · k)
-- are drawn: sorted by the lower-case hex SHA-256 of 'M|household_id', the first ones.
-- Reproducible and independent of row order. Drawn per county (the rate is a county parameter).

CREATE OR REPLACE TABLE stage.audit_sample AS
WITH new_approvals AS (
    SELECT h.household_id, h.county_code, h.town_code, h.region_code, h.roster_type,
           sha256(getvariable('month') || '|' || h.household_id) AS digest
    FROM stage.households_monthly h
    WHERE h.household_source = 'civil_affairs' AND h.since_month = getvariable('month')
), ranked AS (
    SELECT n.*, row_number() OVER (PARTITION BY n.county_code ORDER BY n.digest) AS draw_rank,
           count(*) OVER (PARTITION BY n.county_code) AS new_approvals,
           ceil(p.audit_sample_rate * count(*) OVER (PARTITION BY n.county_code))::INTEGER AS to_draw
    FROM new_approvals n JOIN params p ON p.county_code = n.county_code
)
SELECT getvariable('month') AS month, household_id, county_code, town_code, region_code, roster_type,
       draw_rank, digest, new_approvals, to_draw
FROM ranked WHERE draw_rank <= to_draw;
