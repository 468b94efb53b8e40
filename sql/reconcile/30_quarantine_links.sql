-- Rows whose ID failed the check digit and could not be linked to exactly one known person
-- (10_identity.sql) are quarantined with the reason a data clerk can act on; every link and
-- every 15-digit upgrade is written to id_links so analysts can audit how IDs were obtained.

INSERT INTO stage.quarantine BY NAME
SELECT getvariable('month') AS month, r.source, f.file, r.row_number,
       r.method AS reason_code,
       CASE r.method
           WHEN 'id_ambiguous' THEN format('身份证号 {} 校验位错误，同名且号码相近的已知人员有 {} 人，无法确定是谁', r.id_raw, r.candidates)
           ELSE format('身份证号 {} 校验位错误，且找不到同名、号码仅差一位的已知人员（户籍、救助家庭成员、乡村振兴）', r.id_raw)
       END AS reason,
       'id_number' AS column_name,
       r.raw
FROM id_resolution r JOIN in_files f USING (source)
WHERE r.id_number IS NULL;

INSERT INTO stage.id_links BY NAME
SELECT getvariable('month') AS month, r.source, f.file, r.row_number, r.name,
       r.id_raw, r.id_number, r.method, r.candidates::INTEGER AS candidates
FROM id_resolution r JOIN in_files f USING (source);
