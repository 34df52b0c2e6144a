-- Geometry refined from the images themselves (ICD §12; issue 18).
-- Reference maps: I/F orthoimages of earlier mapping, kept whole with their side file.
CREATE TABLE reference_maps (
    map_id text PRIMARY KEY,
    produced timestamptz NOT NULL,
    resolution_m double precision NOT NULL,
    band text NOT NULL,
    accuracy_m double precision NOT NULL,
    west double precision NOT NULL,
    east double precision NOT NULL,
    south double precision NOT NULL,
    north double precision NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    geotiff bytea NOT NULL,
    side jsonb NOT NULL,
    content_sha256 text NOT NULL,
    source_file text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

-- A refined kernel applies only while it was derived from the best unrefined kernel there is.
ALTER TABLE geometry_kernels ADD COLUMN derived_from_kernel text;

-- Every refinement tried, accepted or refused, with its inputs and evidence.
CREATE TABLE geometry_refinements (
    id bigserial PRIMARY KEY,
    observation_id integer NOT NULL,
    base_kernel_id text NOT NULL,
    base_kernel_kind text NOT NULL,
    base_kernel_sha256 text NOT NULL,
    -- The reference maps' ids and content digests, and the control observations with their kernels.
    controls text[] NOT NULL,
    controls_key text NOT NULL,
    trigger text NOT NULL CHECK (trigger IN ('automatic', 'request')),
    accepted boolean NOT NULL,
    reason text,
    refined_kernel_id text,
    observation_mid_t double precision NOT NULL,
    time_offset_s double precision,
    time_offset_sigma_s double precision,
    ties integer NOT NULL,
    residual_rms_px double precision,
    result jsonb NOT NULL,
    refined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX geometry_refinements_observation ON geometry_refinements (observation_id, refined_at DESC);
CREATE INDEX geometry_refinements_attempt ON geometry_refinements (observation_id, base_kernel_sha256, controls_key);
-- The automatic refinement looks only at what changed since its last pass.
CREATE INDEX observation_catalog_changed ON observation_catalog (changed_at);
