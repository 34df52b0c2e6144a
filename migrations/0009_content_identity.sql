-- Content identity (issue 15): kernels and calibration sets carry the SHA-256 of what was loaded,
-- so reloading an id with other content is refused unless replaced, and a replacement changes
-- the product keys, provenance and export versions of the observations it applies to.
ALTER TABLE geometry_kernels ADD COLUMN content_sha256 text;
ALTER TABLE calibration_sets ADD COLUMN content_sha256 text;
-- The digests of the applicable kernel and calibration set, as the catalogue saw them.
ALTER TABLE observation_catalog ADD COLUMN inputs_digest text NOT NULL DEFAULT '';

-- Housekeeping re-derivation (issue 15): where the derivation of engineering values and limit
-- checks with the current dictionary has got to (resumable; reset by every dictionary load).
CREATE TABLE housekeeping_derivation (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    dictionary_id text NOT NULL,
    next_packet_id bigint NOT NULL
);
