-- Ingest draws packet ids a block at a time (the "pooled" sequence optimisation): one nextval
-- returns the first id of a block of 8192 ids that no other nextval can return, so a batch of new
-- packets needs one call instead of one per packet. Rows inserted with the column default (the
-- careful path for batches that repeat stored packets) each take a block start; ids stay unique
-- and increasing, only sparser.
ALTER SEQUENCE packets_id_seq INCREMENT BY 8192;
