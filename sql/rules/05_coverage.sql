-- reads: months.load_log, main.load_log, seeds/sources.csv
-- Coverage of month M: which department delivered its file (rules.md "Incomplete months:
-- absence of a file is not absence of income"; extracts.md "Landing layout").
--   delivered    the file for M was accepted and at least one of its rows was accepted (a header
--                with no rows is a valid, delivered extract: the department had nothing this month)
--   missing      no file for M
--   refused      a file refused as a whole, or one whose every row was quarantined
-- Facts an undelivered source would hold are unknown, not zero. An optional source (the police
-- register) counts as undelivered only for a county that delivered it in an earlier month.
-- Reads the seed sql/seeds/sources.csv (department, optional, the sentence of 数据说明).

CREATE OR REPLACE TEMP TABLE source_catalogue AS
SELECT source, ord::INTEGER AS ord, department, optional::BOOLEAN AS optional, coalesce(withheld_note, '') AS withheld_note
FROM read_csv(getvariable('seed_dir') || '/sources.csv', header = true, all_varchar = true);

CREATE OR REPLACE TABLE months.source_coverage AS
WITH m AS (
    SELECT * FROM months.load_log WHERE month = getvariable('month')
), previous AS (
    SELECT source, sha256 FROM main.load_log WHERE month = getvariable('prev_month') AND sha256 IS NOT NULL
), delivered_before AS (
    SELECT DISTINCT source FROM main.load_log
    WHERE month < getvariable('month') AND is_delivered(status, rows_in, rows_accepted, rows_duplicate)
)
SELECT getvariable('month') AS month, c.source, c.department, c.ord AS source_order,
       CASE WHEN is_delivered(m.status, m.rows_in, m.rows_accepted, m.rows_duplicate) THEN 'delivered'
            WHEN m.status IS NULL OR m.status = 'missing' THEN 'missing'
            ELSE 'refused' END AS coverage,
       NOT c.optional OR b.source IS NOT NULL AS counted,
       m.file, m.status AS load_status,
       CASE WHEN m.status = 'accepted' AND NOT is_delivered(m.status, m.rows_in, m.rows_accepted, m.rows_duplicate)
            THEN '文件已接收，但没有一行通过校验（全部隔离），按未报送处理' ELSE m.message END AS message,
       coalesce(m.rows_in, 0) AS rows_in, coalesce(m.rows_accepted, 0) AS rows_accepted,
       c.withheld_note,
       -- a file byte-identical to the same source's file of M-1: likely a resend of last month's
       -- (a file with rows, of a department: the bureau's own roster may well not change in a month)
       coalesce(m.sha256 = pv.sha256 AND m.rows_in > 0 AND NOT starts_with(c.source, 'civil_affairs'), false)
           AS same_file_as_previous_month
FROM source_catalogue c
LEFT JOIN m USING (source)
LEFT JOIN previous pv USING (source)
LEFT JOIN delivered_before b USING (source);

-- The sources whose absence withholds conclusions in M.
CREATE OR REPLACE TEMP TABLE undelivered AS
SELECT source, department, coverage, source_order FROM months.source_coverage
WHERE coverage <> 'delivered' AND counted;

-- (read by the macros delivered() and undelivered_of() of sql/shared/00_macros.sql)
SET VARIABLE undelivered_sources = (SELECT coalesce(list(source ORDER BY source), []::VARCHAR[]) FROM undelivered);

-- The month's 数据说明 (interface.md staff columns): empty when every counted source was delivered.
CREATE OR REPLACE TEMP TABLE month_data_note AS
SELECT coalesce(string_agg(c.department || CASE c.coverage WHEN 'missing' THEN '本月未报送' ELSE '本月报送文件被拒收' END
                           || '：' || c.withheld_note, '；' ORDER BY c.source_order) || '。', '') AS data_note
FROM months.source_coverage c
WHERE c.coverage <> 'delivered' AND c.counted;
