-- PDS4 deliveries (issue 8): every delivery, and every product version delivered, so a product
-- reprocessed with newer geometry or calibration gets the next version id and an incremental
-- export delivers only what is new or changed.
CREATE TABLE export_deliveries (
    id bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    directory text NOT NULL,
    incremental boolean NOT NULL,
    products integer NOT NULL
);

CREATE TABLE exported_products (
    lid text NOT NULL,
    version_major integer NOT NULL,
    -- what the version was made from: request, kernel, calibration, software, data stamp
    identity text NOT NULL,
    md5 text NOT NULL,
    delivery_id bigint NOT NULL REFERENCES export_deliveries (id),
    PRIMARY KEY (lid, version_major)
);
