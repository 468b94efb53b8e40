-- reads: policy_counties, months.src_household_registration, months.src_civil_affairs_households, months.src_civil_affairs_members, months.src_rural_revitalization, months.src_civil_affairs_decisions
-- County shards of month M (issue #19; docs/architecture.md "County shards").
-- A household, its members and its alerts live in one county: the county of its region code
-- (first six digits of 行政区划代码). Each county's persons, households and rules are computed in
-- a shard of their own (lim/shard/county.py) from the rows this model routes to it:
--   a person  goes to every county where M lists them in a household: the register (户籍) by its
--             region, a roster (救助台账) member by their household's region, a rural-revitalization
--             member by its region. Every row of that person (any department) goes with them, so
--             each shard sees the person whole. A person in two counties' rosters is in both
--             shards (DUPLICATE_ASSISTANCE is then raised in each county, as in the whole month).
--   the rest  a person M lists in no household (a department's row about an outsider) goes to the
--             county of their ID number when that is a shard, else to the first shard: one shard.
-- The person's owner shard (the first of their counties) is the one whose persons_monthly row is
-- kept when the shards are merged (lim/shard/merge.py); every copy is the same.
-- Shards are the counties of the policy (temp table policy_counties, from the policy file): a
-- region code of another county (a typing error, a county the policy does not know) goes to the
-- first shard, so a hostile file cannot make more shards than the policy has counties.
-- ID linking (sql/reconcile/10_identity.sql) ran before, on the whole month: against the known
-- persons of every county. History (M-1, M-11..M) is read by each shard from the published months.

-- Each county code of M's household-level rows and its shard.
CREATE OR REPLACE TABLE months.shard_counties AS
WITH seen AS (
    SELECT DISTINCT county_code FROM (
        SELECT left(region_code, 6) AS county_code FROM months.src_civil_affairs_households WHERE month = getvariable('month')
        UNION ALL SELECT left(region_code, 6) FROM months.src_household_registration WHERE month = getvariable('month')
        UNION ALL SELECT left(region_code, 6) FROM months.src_rural_revitalization WHERE month = getvariable('month')
        UNION ALL SELECT left(region_code, 6) FROM months.src_civil_affairs_decisions WHERE month = getvariable('month')
    ) WHERE county_code IS NOT NULL
), first_shard AS (
    SELECT coalesce((SELECT min(s.county_code) FROM seen s JOIN policy_counties p USING (county_code)),
                    (SELECT min(county_code) FROM policy_counties)) AS shard
)
SELECT s.county_code, CASE WHEN p.county_code IS NOT NULL THEN s.county_code ELSE f.shard END AS shard
FROM seen s LEFT JOIN policy_counties p USING (county_code) CROSS JOIN first_shard f;

-- Each person M lists in a household, and their shards.
CREATE OR REPLACE TABLE months.shard_persons AS
WITH listed AS (
    SELECT id_number, left(region_code, 6) AS county_code FROM months.src_household_registration
    WHERE month = getvariable('month') AND id_number IS NOT NULL AND region_code IS NOT NULL
    UNION
    SELECT m.id_number, left(h.region_code, 6) FROM months.src_civil_affairs_members m
    JOIN months.src_civil_affairs_households h ON h.month = m.month AND h.household_id = m.household_id
    WHERE m.month = getvariable('month') AND m.id_number IS NOT NULL AND h.region_code IS NOT NULL
    UNION
    SELECT id_number, left(region_code, 6) FROM months.src_rural_revitalization
    WHERE month = getvariable('month') AND id_number IS NOT NULL AND region_code IS NOT NULL
), sharded AS (
    SELECT DISTINCT l.id_number, c.shard FROM listed l JOIN months.shard_counties c USING (county_code)
)
SELECT id_number, shard, shard = min(shard) OVER (PARTITION BY id_number) AS owner FROM sharded;
