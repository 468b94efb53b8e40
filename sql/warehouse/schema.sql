-- Warehouse bootstrap: the tables that exist before the first month is run.
-- Tables derived by sql/reconcile and sql/rules (persons_monthly, households_monthly,
-- determinations, …) take their columns from the SQL that builds them; their documentation
-- is sql/warehouse/comments.sql. src_<source> tables are generated from checks/contracts.

CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, created_at TIMESTAMP);
-- 2: the month tables in schema `months` (lim/warehouse/warehouse.py SCHEMA_VERSION); a warehouse made as 1
-- (schema `stage`) gets a row 2 when it is converted on opening (convert_stage_schema).
INSERT INTO schema_version SELECT 2, now()::TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM schema_version);

-- Policy file as loaded on the last run (all counties, all periods), and towns/villages names.
CREATE TABLE IF NOT EXISTS policy_parameters (
    county_code VARCHAR, effective_from VARCHAR, effective_to VARCHAR, name VARCHAR, value DOUBLE, text_value VARCHAR);
CREATE TABLE IF NOT EXISTS towns (town_code VARCHAR, town_name VARCHAR, county_code VARCHAR);
CREATE TABLE IF NOT EXISTS villages (village_code VARCHAR, village_name VARCHAR, county_code VARCHAR);
CREATE TABLE IF NOT EXISTS counties (county_code VARCHAR, county_name VARCHAR);

-- One row per source file and month: what came in and what became of it.
CREATE TABLE IF NOT EXISTS load_log (
    month VARCHAR NOT NULL, source VARCHAR NOT NULL, file VARCHAR, status VARCHAR, message VARCHAR,
    rows_in BIGINT, rows_accepted BIGINT, rows_duplicate BIGINT, rows_quarantined BIGINT,
    sha256 VARCHAR, ignored_files VARCHAR);

-- Every rejected row, with the file, its spreadsheet row number and the reason.
CREATE TABLE IF NOT EXISTS quarantine (
    month VARCHAR NOT NULL, source VARCHAR NOT NULL, file VARCHAR, row_number BIGINT,
    reason_code VARCHAR, reason VARCHAR, column_name VARCHAR, raw VARCHAR, id_number VARCHAR);

-- Every ID that was not taken as given: 15-digit upgrades and check-digit repairs.
CREATE TABLE IF NOT EXISTS id_links (
    month VARCHAR NOT NULL, source VARCHAR, file VARCHAR, row_number BIGINT, name VARCHAR,
    id_raw VARCHAR, id_number VARCHAR, method VARCHAR, candidates INTEGER);

-- Alerts: read back as history (M-1) for 新增/持续.
CREATE TABLE IF NOT EXISTS alerts (
    month VARCHAR NOT NULL, alert_id VARCHAR, household_id VARCHAR, household_source VARCHAR,
    alert_type VARCHAR, alert_name VARCHAR, priority VARCHAR, priority_rank INTEGER, status VARCHAR,
    first_month VARCHAR, region_code VARCHAR, county_code VARCHAR, town_code VARCHAR, village_code VARCHAR,
    member_id_number VARCHAR, member_name VARCHAR, reasons VARCHAR, reason_text VARCHAR, evidence VARCHAR,
    action VARCHAR, household_size INTEGER, per_capita_income DECIMAL(18,2), standard DECIMAL(18,2),
    category VARCHAR, roster_type VARCHAR, head_name VARCHAR, head_id_number VARCHAR, data_note VARCHAR,
    due_date DATE, evidence_fingerprint VARCHAR, last_answer_id VARCHAR, last_conclusion VARCHAR, last_check_date DATE,
    suppressed BOOLEAN, overdue BOOLEAN, overdue_alert_id VARCHAR, overdue_due_date DATE, list_priority VARCHAR);

-- Who ran which month when, with what inputs (one row per run).
CREATE TABLE IF NOT EXISTS run_audit (
    run_id VARCHAR, month VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
    requested_by VARCHAR, host VARCHAR, landing VARCHAR, policy_file VARCHAR, policy_sha256 VARCHAR,
    inputs VARCHAR, outputs_manifest_sha256 VARCHAR, full_ids BOOLEAN, message VARCHAR);
