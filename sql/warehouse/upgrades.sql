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

-- Alerts resolved (解除) in M: alive before M, neither raised nor withheld in M (sql/rules/92_loop.sql).
CREATE TABLE IF NOT EXISTS resolved_alerts (
    month VARCHAR NOT NULL, household_source VARCHAR, household_id VARCHAR, alert_type VARCHAR, alert_name VARCHAR,
    member_id_number VARCHAR, member_name VARCHAR, last_alert_id VARCHAR, last_alert_month VARCHAR, first_month VARCHAR,
    last_priority VARCHAR, last_reason_text VARCHAR, last_suppressed BOOLEAN, reason_code VARCHAR, reason VARCHAR,
    category_now VARCHAR, region_code VARCHAR, county_code VARCHAR, town_code VARCHAR, village_code VARCHAR,
    head_name VARCHAR, head_id_number VARCHAR);

-- Closing the loop (interface.md): the answers of town staff, kept for every month (not swapped by
-- publish: an import adds rows, a run never removes them). assets/feedback.py writes them.
CREATE TABLE IF NOT EXISTS feedback_imports (
    import_id VARCHAR, month VARCHAR NOT NULL, file VARCHAR, sha256 VARCHAR, imported_at TIMESTAMP, kind VARCHAR,
    town_code VARCHAR, rows_read BIGINT, rows_accepted BIGINT, rows_quarantined BIGINT, rows_skipped BIGINT,
    requested_by VARCHAR);
CREATE TABLE IF NOT EXISTS alert_dispositions (
    disposition_id VARCHAR, import_id VARCHAR, month VARCHAR NOT NULL, alert_id VARCHAR, household_source VARCHAR,
    household_id VARCHAR, alert_type VARCHAR, member_id_number VARCHAR, town_code VARCHAR, conclusion VARCHAR,
    check_date DATE, checker_name VARCHAR, measures VARCHAR, remarks VARCHAR, file VARCHAR, row_number BIGINT,
    sha256 VARCHAR, imported_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS feedback_quarantine (
    import_id VARCHAR, month VARCHAR NOT NULL, file VARCHAR, sha256 VARCHAR, row_number BIGINT, alert_id VARCHAR,
    reason_code VARCHAR, reason VARCHAR, raw VARCHAR, imported_at TIMESTAMP);
