-- Geometry kernels (ICD §7), kept whole and versioned; several coexist.
CREATE TABLE geometry_kernels (
    kernel_id text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('predicted', 'reconstructed', 'refined')),
    kind_rank smallint NOT NULL,
    produced timestamptz NOT NULL,
    coverage_start_sclk double precision NOT NULL,
    coverage_end_sclk double precision NOT NULL,
    clock jsonb NOT NULL,
    kernel jsonb NOT NULL,
    source_file text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX geometry_kernels_rank ON geometry_kernels (kind_rank DESC, produced DESC);
