-- The CaSSIS corrections (ICD §8, §9, §11; issue 17).
-- Straylight patterns are stored beside a calibration set's other arrays.
ALTER TABLE calibration_arrays DROP CONSTRAINT calibration_arrays_kind_check;
ALTER TABLE calibration_arrays ADD CONSTRAINT calibration_arrays_kind_check CHECK (kind IN ('bias', 'flat', 'bad', 'stray'));

-- The shape models that meet each observation (the catalogue resolves them with the rest of
-- what applies; their digests are part of inputs_digest).
ALTER TABLE observation_catalog ADD COLUMN shape_model_ids text[] NOT NULL DEFAULT '{}';

-- What Areo estimated from an observation's own data (the rotation mechanism's offset and the
-- straylight amplitude factor), per set of inputs it was estimated with: a history per
-- observation, kept when inputs change.
CREATE TABLE observation_corrections (
    id bigserial PRIMARY KEY,
    observation_id integer NOT NULL,
    inputs_key text NOT NULL,
    observation_start_sclk double precision NOT NULL,
    kernel_id text NOT NULL,
    calibration_id text NOT NULL,
    shape_model_ids text[] NOT NULL,
    mechanism_offset_deg double precision NOT NULL,
    mechanism_uncertainty_deg double precision,
    fringing_before_px double precision,
    fringing_after_px double precision,
    straylight_epsilon double precision,
    straylight_amplitude double precision,
    straylight_framelets integer NOT NULL DEFAULT 0,
    evidence jsonb NOT NULL,
    estimated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (observation_id, inputs_key)
);
CREATE INDEX observation_corrections_time ON observation_corrections (observation_start_sclk, estimated_at);
