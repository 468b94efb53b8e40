-- reads: wh.months.src_{source}, wh.months.shard_persons, wh.months.shard_counties, wh.months.src_civil_affairs_members, wh.months.src_civil_affairs_households
-- The rows of month M that shard {shard} computes from (sql/shard/10_plan.sql says which): one
-- table months.src_{source} in the shard's own DuckDB file, copied once from the warehouse's table
-- (attached read-only as `wh`): the models read each source several times, and a view would route
-- the whole month's rows again at every read (a prefecture's shards took 4× longer with views). Template: {source}, {shard}; lim/shard/county.py runs the statement of the
-- source's kind. The shard of a county code: months.shard_counties, else the first shard.

-- kind: person — a row goes with its person (every shard M lists them in; else the shard of their ID's county, else the first)
CREATE OR REPLACE TABLE months.src_{source} AS
SELECT s.* FROM wh.months.src_{source} s
WHERE s.id_number IN (SELECT id_number FROM wh.months.shard_persons WHERE shard = '{shard}')
   OR (NOT EXISTS (SELECT 1 FROM wh.months.shard_persons p WHERE p.id_number = s.id_number)
       AND coalesce((SELECT c.shard FROM wh.months.shard_counties c WHERE c.county_code = left(s.id_number, 6)),
                    (SELECT min(shard) FROM wh.months.shard_counties)) = '{shard}');

-- kind: roster_household — the shard's households, and those of another shard one of its persons is a member of
CREATE OR REPLACE TABLE months.src_{source} AS
SELECT s.* FROM wh.months.src_{source} s
WHERE coalesce((SELECT c.shard FROM wh.months.shard_counties c WHERE c.county_code = left(s.region_code, 6)),
               (SELECT min(shard) FROM wh.months.shard_counties)) = '{shard}'
   OR s.household_id IN (SELECT m.household_id FROM wh.months.src_civil_affairs_members m
                         WHERE m.id_number IN (SELECT id_number FROM wh.months.shard_persons WHERE shard = '{shard}'));

-- kind: decision — an approval decision goes with the roster household it is about, else with its own region
CREATE OR REPLACE TABLE months.src_{source} AS
SELECT s.* FROM wh.months.src_{source} s
WHERE coalesce((SELECT c.shard FROM wh.months.shard_counties c
                WHERE c.county_code = left(coalesce((SELECT arg_min(h.region_code, h.row_number) FROM wh.months.src_civil_affairs_households h
                                                     WHERE h.household_id = s.household_id), s.region_code), 6)),
               (SELECT min(shard) FROM wh.months.shard_counties)) = '{shard}';
