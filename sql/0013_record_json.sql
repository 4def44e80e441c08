-- 0013: each record keeps its JSON as the API shows it, written with it.
--
-- A list page is fifty records: reading nineteen columns of each and
-- printing them again (times, escapes) was most of its cost. The text is
-- made anyway on every write (it is the answer, the events' data and the
-- kept answer of the Idempotency-Key), so keeping it costs only its
-- bytes. Rows written before this migration have none (NULL) and are
-- printed from their columns, as before, until their next write.
ALTER TABLE records ADD COLUMN json TEXT;
