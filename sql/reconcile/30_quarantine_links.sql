-- Rows whose ID failed the check digit and could not be linked to exactly one known person
-- (10_identity.sql) are quarantined with the reason a data clerk can act on (reason = code：text); every link and
-- every 15-digit upgrade is written to id_links so analysts can audit how IDs were obtained.

INSERT INTO months.quarantine BY NAME
SELECT getvariable('month') AS month, r.source, f.file, r.row_number,
       r.method AS reason_code,
       r.method || '：' || CASE r.method
           WHEN 'id_ambiguous' THEN format('身份证号 {} 校验位错误，同名且号码相近的已知人员有 {} 人（ambiguous），无法确定是谁', r.id_raw, r.candidates)
           ELSE format('身份证号 {} 校验位错误，且找不到同名、号码仅差一位的已知人员（unlinked；户籍、救助家庭成员、乡村振兴）', r.id_raw)
       END AS reason,
       'id_number' AS column_name,
       r.raw
FROM id_resolution r JOIN in_files f USING (source)
WHERE r.id_number IS NULL;

INSERT INTO months.id_links BY NAME
SELECT getvariable('month') AS month, r.source, f.file, r.row_number, r.name,
       r.id_raw, r.id_number, r.method, r.candidates::INTEGER AS candidates
FROM id_resolution r JOIN in_files f USING (source);

-- 15-digit upgrades (staging inserted 19 and computed the check digit). Fix (issue #4): these were
-- announced above and in comments.sql but never written. id_raw is the legacy 15-digit form
-- (normalized), candidates is NULL: no search, the upgrade is mechanical.
INSERT INTO months.id_links BY NAME
SELECT getvariable('month') AS month, u.source, f.file, u.row_number, u.name,
       left(u.id_number, 6) || substr(u.id_number, 9, 9) AS id_raw, u.id_number,
       'upgraded_15' AS method, NULL::INTEGER AS candidates
FROM (
    SELECT 'civil_affairs_members' AS source, _row_number AS row_number, id_number, name FROM in_civil_affairs_members WHERE _id_status = 'upgraded_15'
    UNION ALL SELECT 'household_registration', _row_number, id_number, name FROM in_household_registration WHERE _id_status = 'upgraded_15'
    UNION ALL SELECT 'education', _row_number, id_number, name FROM in_education WHERE _id_status = 'upgraded_15'
    UNION ALL SELECT 'hr', _row_number, id_number, name FROM in_hr WHERE _id_status = 'upgraded_15'
    UNION ALL SELECT 'housing', _row_number, id_number, name FROM in_housing WHERE _id_status = 'upgraded_15'
    UNION ALL SELECT 'health', _row_number, id_number, name FROM in_health WHERE _id_status = 'upgraded_15'
    UNION ALL SELECT 'medical_insurance', _row_number, id_number, name FROM in_medical_insurance WHERE _id_status = 'upgraded_15'
    UNION ALL SELECT 'emergency', _row_number, id_number, name FROM in_emergency WHERE _id_status = 'upgraded_15'
    UNION ALL SELECT 'rural_revitalization', _row_number, id_number, name FROM in_rural_revitalization WHERE _id_status = 'upgraded_15'
) u JOIN in_files f USING (source);
