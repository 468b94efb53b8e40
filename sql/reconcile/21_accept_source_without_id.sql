-- Accepted rows of a source without an ID column (civil_affairs_households) → months.src_{source}
-- (template: {source}, {columns}). Nothing to link: every staged row is kept with its row number.

INSERT INTO months.src_{source} BY NAME
SELECT getvariable('month') AS month,
       getvariable('file_{source}') AS file,
       i._row_number AS row_number,
       {columns},
       i._raw AS raw
FROM in_{source} i;
