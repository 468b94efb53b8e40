-- reads: wh.months.src_{source}, wh.months.shard_persons, wh.months.shard_counties, wh.months.src_civil_affairs_members, wh.months.src_civil_affairs_households
-- The rows of month M that county shard {county} computes from (sql/shard/10_plan.sql says which):
-- one view months.src_{source} in the shard's own DuckDB file over the warehouse's table, attached
-- read-only as `wh`. Template: {source}, {county}, and {kind} picks the one statement that applies
-- (lim/shard/county.py runs the statement marked with the source's kind).

-- kind: person — a row goes with its person (every county M lists them in; else one fallback shard)
CREATE OR REPLACE VIEW months.src_{source} AS
SELECT s.* FROM wh.months.src_{source} s
WHERE s.id_number IN (SELECT id_number FROM wh.months.shard_persons WHERE county_code = '{county}')
   OR (NOT EXISTS (SELECT 1 FROM wh.months.shard_persons p WHERE p.id_number = s.id_number)
       AND coalesce((SELECT c.county_code FROM wh.months.shard_counties c WHERE c.county_code = left(s.id_number, 6)),
                    (SELECT min(county_code) FROM wh.months.shard_counties)) = '{county}');

-- kind: roster_household — the county's households, and those of another county one of its persons is a member of
CREATE OR REPLACE VIEW months.src_{source} AS
SELECT s.* FROM wh.months.src_{source} s
WHERE left(s.region_code, 6) = '{county}'
   OR s.household_id IN (SELECT m.household_id FROM wh.months.src_civil_affairs_members m
                         WHERE m.id_number IN (SELECT id_number FROM wh.months.shard_persons WHERE county_code = '{county}'));

-- kind: decision — an approval decision goes to the county of the roster household it is about, else its own region's
CREATE OR REPLACE VIEW months.src_{source} AS
SELECT s.* FROM wh.months.src_{source} s
WHERE left(coalesce((SELECT arg_min(h.region_code, h.row_number) FROM wh.months.src_civil_affairs_households h
                     WHERE h.household_id = s.household_id), s.region_code), 6) = '{county}';
