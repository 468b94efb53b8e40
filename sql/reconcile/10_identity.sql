-- Identity resolution (extracts.md "Bad input"; issue: reconciliation).
--
-- An ID whose check digit fails (GB 11643, ISO 7064 MOD 11-2) is not thrown away at once: it is
-- linked to a *known person* — a valid ID of M's household register, roster members or
-- rural-revitalization members — when the evidence is unambiguous:
--   tier 1: the same normalized name and an ID one substitution (any of the 18 positions) or one
--           adjacent transposition away, whatever the region or birth-date digits say;
--   tier 2 (only when tier 1 finds nobody): the same name and the same first 14 digits
--           (county part and birth date).
-- Exactly one candidate links; two or more are `id_ambiguous`; none is `id_unlinked`.
-- A valid ID is never re-linked. Inputs: temp tables in_<source> (staged rows of M) and
-- qk_<source> (the valid IDs and names of the rows staging quarantined for another cell: a person
-- of the register is a known person even when their register row has, say, an unknown 户籍状态).

CREATE OR REPLACE TEMP TABLE known_persons AS
SELECT DISTINCT id_number, name FROM (
    SELECT id_number, name FROM in_household_registration WHERE _id_status <> 'bad_checksum'
    UNION ALL
    SELECT id_number, name FROM in_civil_affairs_members WHERE _id_status <> 'bad_checksum'
    UNION ALL
    SELECT id_number, name FROM in_rural_revitalization WHERE _id_status <> 'bad_checksum'
    UNION ALL
    SELECT id_number, name FROM qk_household_registration
    UNION ALL
    SELECT id_number, name FROM qk_civil_affairs_members
    UNION ALL
    SELECT id_number, name FROM qk_rural_revitalization
) WHERE id_number IS NOT NULL AND name IS NOT NULL;

CREATE OR REPLACE TEMP TABLE bad_ids AS
SELECT * FROM (
    SELECT 'civil_affairs_members' AS source, _row_number AS row_number, id_number AS id_raw, name, _raw AS raw FROM in_civil_affairs_members WHERE _id_status = 'bad_checksum'
    UNION ALL SELECT 'household_registration', _row_number, id_number, name, _raw FROM in_household_registration WHERE _id_status = 'bad_checksum'
    UNION ALL SELECT 'education', _row_number, id_number, name, _raw FROM in_education WHERE _id_status = 'bad_checksum'
    UNION ALL SELECT 'hr', _row_number, id_number, name, _raw FROM in_hr WHERE _id_status = 'bad_checksum'
    UNION ALL SELECT 'housing', _row_number, id_number, name, _raw FROM in_housing WHERE _id_status = 'bad_checksum'
    UNION ALL SELECT 'health', _row_number, id_number, name, _raw FROM in_health WHERE _id_status = 'bad_checksum'
    UNION ALL SELECT 'medical_insurance', _row_number, id_number, name, _raw FROM in_medical_insurance WHERE _id_status = 'bad_checksum'
    UNION ALL SELECT 'emergency', _row_number, id_number, name, _raw FROM in_emergency WHERE _id_status = 'bad_checksum'
    UNION ALL SELECT 'rural_revitalization', _row_number, id_number, name, _raw FROM in_rural_revitalization WHERE _id_status = 'bad_checksum'
);

-- Candidates are blocked on the name (the join key), then scored on the ID.
CREATE OR REPLACE TEMP TABLE id_candidates AS
SELECT b.source, b.row_number, k.id_number,
       CASE WHEN hamming(b.id_raw, k.id_number) = 1 THEN 'typo_1'
            WHEN damerau_levenshtein(b.id_raw, k.id_number) = 1 THEN 'transposition'
            ELSE 'same_birth' END AS method,
       CASE WHEN damerau_levenshtein(b.id_raw, k.id_number) = 1 THEN 1 ELSE 2 END AS tier
FROM bad_ids b
JOIN known_persons k ON k.name = b.name
WHERE length(b.id_raw) = 18
  AND (damerau_levenshtein(b.id_raw, k.id_number) = 1 OR left(b.id_raw, 14) = left(k.id_number, 14));

CREATE OR REPLACE TEMP TABLE id_resolution AS
WITH best AS (
    SELECT source, row_number, min(tier) AS tier FROM id_candidates GROUP BY ALL
), counted AS (
    SELECT c.source, c.row_number, count(DISTINCT c.id_number) AS candidates,
           min(c.id_number) AS id_number, min(c.method) AS method
    FROM id_candidates c JOIN best USING (source, row_number, tier)
    GROUP BY ALL
)
SELECT b.source, b.row_number, b.id_raw, b.name, b.raw,
       coalesce(c.candidates, 0) AS candidates,
       CASE WHEN c.candidates = 1 THEN c.id_number END AS id_number,
       CASE WHEN c.candidates = 1 THEN c.method
            WHEN c.candidates > 1 THEN 'id_ambiguous' ELSE 'id_unlinked' END AS method
FROM bad_ids b LEFT JOIN counted c USING (source, row_number);
