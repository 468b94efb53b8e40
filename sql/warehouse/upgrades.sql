-- Monthly tables added after the first release, created on every open where they are missing
-- (a warehouse made by an older release has months without them: their views show those months
-- with no rows). CREATE TABLE IF NOT EXISTS is a no-op where the view main.<t> already exists.

-- Coverage of each month: which department delivered its file (rules.md "Incomplete months").
CREATE TABLE IF NOT EXISTS source_coverage (
    month VARCHAR NOT NULL, source VARCHAR, department VARCHAR, source_order INTEGER, coverage VARCHAR,
    counted BOOLEAN, file VARCHAR, load_status VARCHAR, message VARCHAR, rows_in BIGINT, rows_accepted BIGINT,
    withheld_note VARCHAR, same_file_as_previous_month BOOLEAN);

-- Evaluations withheld because a source was undelivered (rules.md "Incomplete months").
CREATE TABLE IF NOT EXISTS withheld_evaluations (
    month VARCHAR NOT NULL, household_source VARCHAR, household_id VARCHAR, alert_type VARCHAR, alert_name VARCHAR,
    missing_sources VARCHAR, withheld_because VARCHAR, region_code VARCHAR, town_code VARCHAR, county_code VARCHAR);
