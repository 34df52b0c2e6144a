-- Delivery (issue 7): the observation catalogue the server searches and keys its products by,
-- the generation counter that tells a server its memo of it is stale, and API tokens.

-- Bumped (in the same transaction) by every change that can change a product or what a client
-- may see: plan, pass, kernel, calibration set and instrument loads. A server compares it on
-- each request, so from the moment a load returns no product made with older inputs is served.
CREATE TABLE catalog_generation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint NOT NULL
);
INSERT INTO catalog_generation (singleton, generation) VALUES (true, 0);

-- One row per observation (planned or arrived): what applies to it now, its footprint and the
-- fields search filters on. Rewritten by ObservationCatalog.refresh after every load.
CREATE TABLE observation_catalog (
    observation_id bigint PRIMARY KEY,
    planned boolean NOT NULL,
    status text NOT NULL,
    target text,
    bands text[] NOT NULL DEFAULT '{}',
    embargo_until timestamptz,
    start_sclk double precision NOT NULL,
    end_sclk double precision NOT NULL,
    start_utc timestamptz,
    end_utc timestamptz,
    first_ert_us bigint,
    last_ert_us bigint,
    kernel_id text,
    calibration_id text,
    -- what the observation's complete fragments and the instrument description are now
    data_stamp text NOT NULL,
    -- planetocentric footprint (JSON ring of [lon_east, lat]) and its box: x = east longitude
    -- unwrapped so that west is in [0, 360) and east may pass 360; y = latitude
    footprint jsonb,
    bbox box,
    centre_latitude double precision,
    centre_longitude double precision,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX observation_catalog_bbox ON observation_catalog USING gist (bbox);
CREATE INDEX observation_catalog_sclk ON observation_catalog (start_sclk, end_sclk);
CREATE INDEX observation_catalog_utc ON observation_catalog (start_utc, end_utc);

-- Bearer tokens, stored as SHA-256 of the token: the token itself is shown once, on creation.
CREATE TABLE api_tokens (
    id bigserial PRIMARY KEY,
    token_sha256 bytea NOT NULL UNIQUE,
    role text NOT NULL CHECK (role IN ('public', 'team', 'archivist')),
    label text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
