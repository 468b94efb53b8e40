-- reads: shard_{county}.months.*, owned_households, months.shard_persons
-- Merge county shard {county} (attached read-only as shard_{county}) into the warehouse's month
-- (lim/shard/merge.py runs this once per shard, after `owned_households` lists the households
-- each shard owns: those of its county, in its own households_monthly). A shard also computed a
-- few rows that are not its own — a household of another county one of its persons is listed in,
-- an alert of a household that moved away — so each table keeps what the shard owns:
--   persons_monthly            the persons whose owner shard this is (sql/shard/10_plan.sql) or
--                              who are in no shard's list (outsiders: in one shard only);
--   households_monthly         the county's households;
--   per-household tables       rows of a household the shard owns, or of a household no shard
--                              owns (gone from M) when the row's county is the shard's.
-- {table} is the table; the statement marked with its kind runs.

-- kind: persons
INSERT INTO months.{table} BY NAME
SELECT * FROM shard_{county}.months.{table} s
WHERE s.id_number IN (SELECT id_number FROM months.shard_persons WHERE county_code = '{county}' AND owner)
   OR NOT EXISTS (SELECT 1 FROM months.shard_persons p WHERE p.id_number = s.id_number);

-- kind: households
INSERT INTO months.{table} BY NAME
SELECT * FROM shard_{county}.months.{table} WHERE county_code = '{county}';

-- kind: members
INSERT INTO months.{table} BY NAME
SELECT s.* FROM shard_{county}.months.{table} s
WHERE EXISTS (SELECT 1 FROM owned_households o WHERE o.shard = '{county}'
              AND o.household_source = s.household_source AND o.household_id = s.household_id);

-- kind: per_household
INSERT INTO months.{table} BY NAME
SELECT s.* FROM shard_{county}.months.{table} s
WHERE EXISTS (SELECT 1 FROM owned_households o WHERE o.shard = '{county}'
              AND o.household_source = s.household_source AND o.household_id = s.household_id)
   OR (s.county_code = '{county}'
       AND NOT EXISTS (SELECT 1 FROM owned_households o
                       WHERE o.household_source = s.household_source AND o.household_id = s.household_id));

-- kind: roster_household (the audit sample: roster households and rejected applications, no household_source)
INSERT INTO months.{table} BY NAME
SELECT s.* FROM shard_{county}.months.{table} s
WHERE EXISTS (SELECT 1 FROM owned_households o WHERE o.shard = '{county}'
              AND o.household_source = 'civil_affairs' AND o.household_id = s.household_id)
   OR (s.county_code = '{county}'
       AND NOT EXISTS (SELECT 1 FROM owned_households o
                       WHERE o.household_source = 'civil_affairs' AND o.household_id = s.household_id));
