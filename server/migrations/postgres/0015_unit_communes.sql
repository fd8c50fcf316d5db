-- Each unit's communes as rows: the communes a unit's scope covers, by the rule of
-- `store::unit`'s `COVERED` (its subtree, what a reviewing body covers — a provincial health
-- department its province, a district health centre its district, any listed in
-- `unit_coverage` — and a village's commune). A user's scope is the communes of the units they
-- are attached to (`user_units` joined to this), which sessions read and listings, the
-- overview and the reports join instead of binding a list of codes; the desk's reviewing units
-- read their communes here. The store refills it in the transaction that stores units.
CREATE TABLE unit_communes (
    unit     TEXT NOT NULL REFERENCES units (code),
    commune  TEXT NOT NULL REFERENCES units (code),
    PRIMARY KEY (unit, commune)
);

WITH RECURSIVE seeds(unit) AS (SELECT code FROM units),
covered(unit, code) AS (
    SELECT unit, unit FROM seeds
    UNION SELECT s.unit, c.commune FROM unit_coverage c JOIN seeds s ON s.unit = c.unit
    UNION SELECT s.unit, u.parent FROM units u JOIN seeds s ON s.unit = u.code
          WHERE u.kind = 'village'
    UNION SELECT s.unit, u.parent FROM units u JOIN units p ON p.code = u.parent
          JOIN seeds s ON s.unit = u.code
          WHERE (u.kind = 'health_department' AND p.kind = 'province')
             OR (u.kind = 'health_centre' AND p.kind = 'district')
    UNION SELECT covered.unit, u.code FROM units u JOIN covered ON u.parent = covered.code
          WHERE u.kind <> 'village'
)
INSERT INTO unit_communes (unit, commune)
SELECT DISTINCT covered.unit, c.code FROM covered
JOIN units c ON c.code = covered.code
WHERE c.kind = 'commune';
