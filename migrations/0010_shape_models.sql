-- Shape models (ICD §11, issue 17): each GeoTIFF kept whole as received, with its side file and
-- the SHA-256 of both; several coexist, global and local. Reloading an id with other content is
-- refused unless replaced.
CREATE TABLE shape_models (
    dem_id text PRIMARY KEY,
    produced timestamptz NOT NULL,
    resolution_m double precision NOT NULL,
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
