-- Ingest draws packet ids a block at a time (the "pooled" sequence optimisation): one nextval
-- returns the first id of a block of 8192 ids that no other nextval can return, so a batch of new
-- packets needs one call instead of one per packet. Rows inserted with the column default (the
-- careful path for batches that repeat stored packets) each take a block start; ids stay unique
-- and increasing, only sparser.
ALTER SEQUENCE packets_id_seq INCREMENT BY 8192;

-- The end of every pass looks for clock-wrap corrected packets; they are rare, so a partial index
-- finds them without reading the whole packets table.
CREATE INDEX packets_wrap_corrected ON packets (id) WHERE wrap_correction <> 0;

-- Receptions are read by pass (the primary key) and by packet; ERT queries use the packet's first
-- reception time (packets_ert). An index nothing reads costs every ingested packet an entry.
DROP INDEX receptions_ert;
