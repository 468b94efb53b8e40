-- reads: shard_{shard}.months.*, owned_households, months.shard_persons, months.shard_counties
-- Merge shard {shard} (its DuckDB file attached read-only as shard_{shard}) into the warehouse's
-- month (lim/shard/merge.py runs this once per shard, after `owned_households` lists the
-- households each shard owns: those of its counties, in its own households_monthly). A shard also
-- computed a few rows that are not its own — a household of another county one of its persons is
-- listed in, an alert of a household that moved away — so each table keeps what the shard owns:
--   persons_monthly            the persons whose owner shard this is (sql/shard/10_plan.sql) or
--                              who are in no shard's list (outsiders: in one shard only);
--   households_monthly         the households of its counties;
--   per-household tables       rows of a household the shard owns, or of a household no shard
--                              owns (gone from M) when the row's county is one of the shard's.
-- The shard of a county code: months.shard_counties, else the first shard (as in 20_county_inputs.sql).
-- {table} is the table; the statement marked with its kind runs.

-- kind: persons
INSERT INTO months.{table} BY NAME
SELECT * FROM shard_{shard}.months.{table} s
WHERE s.id_number IN (SELECT id_number FROM months.shard_persons WHERE shard = '{shard}' AND owner)
   OR NOT EXISTS (SELECT 1 FROM months.shard_persons p WHERE p.id_number = s.id_number);

-- kind: households
INSERT INTO months.{table} BY NAME
SELECT s.* FROM shard_{shard}.months.{table} s
WHERE EXISTS (SELECT 1 FROM owned_households o WHERE o.shard = '{shard}'
              AND o.household_source = s.household_source AND o.household_id = s.household_id);

-- kind: members
INSERT INTO months.{table} BY NAME
SELECT s.* FROM shard_{shard}.months.{table} s
WHERE EXISTS (SELECT 1 FROM owned_households o WHERE o.shard = '{shard}'
              AND o.household_source = s.household_source AND o.household_id = s.household_id);

-- kind: per_household
INSERT INTO months.{table} BY NAME
SELECT s.* FROM shard_{shard}.months.{table} s
WHERE EXISTS (SELECT 1 FROM owned_households o WHERE o.shard = '{shard}'
              AND o.household_source = s.household_source AND o.household_id = s.household_id)
   OR (NOT EXISTS (SELECT 1 FROM owned_households o
                   WHERE o.household_source = s.household_source AND o.household_id = s.household_id)
       AND coalesce((SELECT c.shard FROM months.shard_counties c WHERE c.county_code = s.county_code),
                    (SELECT min(shard) FROM months.shard_counties)) = '{shard}');

-- kind: roster_household (the audit sample: roster households and rejected applications, no household_source)
INSERT INTO months.{table} BY NAME
SELECT s.* FROM shard_{shard}.months.{table} s
WHERE EXISTS (SELECT 1 FROM owned_households o WHERE o.shard = '{shard}'
              AND o.household_source = 'civil_affairs' AND o.household_id = s.household_id)
   OR (NOT EXISTS (SELECT 1 FROM owned_households o
                   WHERE o.household_source = 'civil_affairs' AND o.household_id = s.household_id)
       AND coalesce((SELECT c.shard FROM months.shard_counties c WHERE c.county_code = s.county_code),
                    (SELECT min(shard) FROM months.shard_counties)) = '{shard}');
