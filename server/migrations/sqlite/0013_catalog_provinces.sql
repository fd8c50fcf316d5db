-- Catalog revisions belong to a province (issue 21): the unit code of the province whose
-- administrator published it (NULL: national — the shipped ones, a system administrator's and the
-- operator's), and who published it (NULL: the operator, through `tramyte catalog import`).
-- Every revision of a code belongs to the province of its first one.
ALTER TABLE catalogs ADD COLUMN province TEXT;
ALTER TABLE catalogs ADD COLUMN published_by TEXT;
