-- Processing inputs (ICD §8, §9): instrument descriptions and calibration sets, kept whole and
-- versioned. Geometry kernels are in 0003.

CREATE TABLE instruments (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    description jsonb NOT NULL,
    source_file text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);
-- Loading the same description again adds no version.
CREATE UNIQUE INDEX instruments_content ON instruments (name, md5(description::text));

CREATE TABLE calibration_sets (
    calibration_id text PRIMARY KEY,
    produced timestamptz NOT NULL,
    applies_from_sclk double precision NOT NULL,
    detector_rows integer NOT NULL,
    detector_cols integer NOT NULL,
    description jsonb NOT NULL,
    source_dir text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calibration_sets_applicability ON calibration_sets (applies_from_sclk, produced DESC);

-- The whole-detector arrays, byte-exact as delivered (float32 LE bias and flat, uint8 bad pixels).
CREATE TABLE calibration_arrays (
    calibration_id text NOT NULL REFERENCES calibration_sets (calibration_id) ON DELETE CASCADE,
    band smallint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('bias', 'flat', 'bad')),
    bytes bytea NOT NULL,
    PRIMARY KEY (calibration_id, band, kind)
);
ALTER TABLE calibration_arrays ALTER COLUMN bytes SET STORAGE EXTERNAL;
