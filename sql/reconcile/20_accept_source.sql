-- Accepted rows of one source for month M → months.src_{source} (template: {source}, {columns}).
-- Every row keeps its file and spreadsheet row number, the ID as delivered (id_raw) and how the
-- final ID was obtained (link_method: exact / upgraded_15 / typo_1 / transposition / same_birth).
-- Rows whose bad ID could not be linked are not here: they are in quarantine (30_quarantine.sql).

INSERT INTO months.src_{source} BY NAME
SELECT getvariable('month') AS month,
       getvariable('file_{source}') AS file,
       i._row_number AS row_number,
       {columns},
       coalesce(r.id_number, i.id_number) AS id_number,
       i.id_number AS id_raw,
       CASE WHEN r.id_number IS NOT NULL THEN r.method
            WHEN i._id_status = 'upgraded_15' THEN 'upgraded_15'
            ELSE 'exact' END AS link_method,
       i._raw AS raw
FROM in_{source} i
LEFT JOIN id_resolution r ON r.source = '{source}' AND r.row_number = i._row_number
WHERE i._id_status <> 'bad_checksum' OR r.id_number IS NOT NULL;
