-- Each user's scope as rows (phạm vi): the communes their units cover, by the rule of
-- `store::unit`'s `COVERED` (their units' subtrees, what their reviewing bodies cover, a
-- village's commune). Listings, the overview and the reports join it instead of binding the
-- scope as a list of codes; a session's scope reads it. The store refreshes a user's rows in
-- the transaction that attaches them to units, and everyone's in the one that stores units.
CREATE TABLE user_communes (
    user_id  TEXT NOT NULL REFERENCES users (id),
    commune  TEXT NOT NULL REFERENCES units (code),
    PRIMARY KEY (user_id, commune)
);

WITH RECURSIVE seeds(unit) AS (SELECT DISTINCT unit FROM user_units),
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
)
INSERT INTO user_communes (user_id, commune)
SELECT DISTINCT uu.user_id, c.code FROM covered
JOIN user_units uu ON uu.unit = covered.unit
JOIN units c ON c.code = covered.code
WHERE c.kind = 'commune';
