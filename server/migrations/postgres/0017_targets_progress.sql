-- The targets' progress of a year (the overview, reports) reads that year's targets grouped by
-- unit and kind: this index gives them in that order with every column the count needs, so the
-- database neither reads the table nor sorts them (10,000 targets of one year, the overview's
-- targets statement alone on SQLite: 9.6 → 6.4 ms for every commune, 13.7 → 11.0 in a scope).
CREATE INDEX targets_progress ON targets (year, unit, kind, commune, local_min_score);
