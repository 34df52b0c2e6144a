-- Telemetry archive (ICD §2–6, §10): passes, packets kept byte-exact forever, their receptions,
-- reassembled fragments, plans, housekeeping, anomalies and the per-APID stream state.
--
-- The high-volume tables (packets, receptions, housekeeping, fragment_packets,
-- reassembly_pending) carry no foreign-key constraints: the archive is append-only, ingest writes
-- parent and child rows in the same transaction, and a per-row foreign-key check would cost more
-- than the insert itself at a million packets a pass (docs/architecture.md).

-- One row per distinct pass file (identified by content); re-ingesting the same file finds it.
CREATE TABLE passes (
    id bigserial PRIMARY KEY,
    file_name text NOT NULL,
    sha256 bytea NOT NULL UNIQUE,
    size_bytes bigint NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    records integer,
    damaged_bytes bigint
);

-- Every distinct packet, byte-exact. Duplicates (same APID, sequence count, SCLK and bytes) are
-- stored once; every delivery of it is a row in receptions.
CREATE TABLE packets (
    id bigserial PRIMARY KEY,
    apid integer NOT NULL,
    sequence_flags smallint NOT NULL,
    sequence_count integer NOT NULL,
    sclk_coarse_raw bigint NOT NULL,
    sclk_fine integer NOT NULL,
    -- coarse clock wraps removed by the clock-wrap correction (ICD §6); 0 for unaffected packets
    wrap_correction integer NOT NULL DEFAULT 0,
    sclk double precision NOT NULL,
    service_type smallint NOT NULL,
    service_subtype smallint NOT NULL,
    crc_ok boolean NOT NULL,
    content_hash bytea NOT NULL,
    bytes bytea NOT NULL,
    first_pass_id bigint NOT NULL,
    first_ert_us bigint NOT NULL,
    -- clock first: new packets land at the right edge of the index instead of all over it
    CONSTRAINT packets_identity UNIQUE (sclk_coarse_raw, sclk_fine, apid, sequence_count, content_hash)
);
CREATE INDEX packets_apid_sclk ON packets (apid, sclk, sequence_count);
CREATE INDEX packets_ert ON packets (first_ert_us);

-- Each delivery of a packet: the delivery header and where it was in which pass.
CREATE TABLE receptions (
    pass_id bigint NOT NULL,
    file_offset bigint NOT NULL,
    packet_id bigint NOT NULL,
    ert_us bigint NOT NULL,
    station_id integer NOT NULL,
    virtual_channel integer NOT NULL,
    delivery_service_type smallint NOT NULL,
    time_quality smallint NOT NULL,
    PRIMARY KEY (pass_id, file_offset)
);
CREATE INDEX receptions_packet ON receptions (packet_id, pass_id, file_offset);
CREATE INDEX receptions_ert ON receptions (ert_us);

-- Reassembled image fragments. Their bytes (64-byte header + payload, compressed as received)
-- are not copied: they are the user data of their packets in order (fragment_packets), read
-- back in one query (FragmentRepository), so the archive holds every byte once.
CREATE TABLE fragments (
    id bigserial PRIMARY KEY,
    observation_id bigint NOT NULL,
    framelet_index integer NOT NULL,
    band smallint NOT NULL,
    compression smallint NOT NULL,
    status text NOT NULL CHECK (status IN ('complete', 'incomplete', 'corrupt', 'open')),
    problems text[] NOT NULL DEFAULT '{}',
    missing_packets integer NOT NULL DEFAULT 0,
    exposure_start_raw double precision NOT NULL,
    exposure_start double precision NOT NULL,
    header jsonb NOT NULL,
    byte_count integer NOT NULL,
    first_packet_id bigint NOT NULL,
    packet_count integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (observation_id, framelet_index, band)
);
CREATE INDEX fragments_start ON fragments (exposure_start);

-- Which packets make up which fragment (narrow, so assigning packets never rewrites them).
CREATE TABLE fragment_packets (
    packet_id bigint PRIMARY KEY,
    fragment_id bigint NOT NULL
);
CREATE INDEX fragment_packets_fragment ON fragment_packets (fragment_id);

-- Science packets not yet part of a complete fragment: all that reassembly has to read.
CREATE TABLE reassembly_pending (
    packet_id bigint PRIMARY KEY,
    sclk double precision NOT NULL,
    sequence_count integer NOT NULL
);
CREATE INDEX reassembly_pending_order ON reassembly_pending (sclk, sequence_count, packet_id);

-- Commanded observations (ICD §10).
CREATE TABLE plans (
    observation_id bigint PRIMARY KEY,
    start_sclk double precision NOT NULL,
    end_sclk double precision NOT NULL,
    plan jsonb NOT NULL,
    embargo_until timestamptz,
    spans_clock_wrap boolean NOT NULL DEFAULT false,
    source_file text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

-- The housekeeping dictionary in force (ICD §5).
CREATE TABLE housekeeping_channels (
    channel_id integer PRIMARY KEY,
    name text NOT NULL,
    unit text NOT NULL,
    coefficients double precision[] NOT NULL,
    yellow double precision[] NOT NULL,
    red double precision[] NOT NULL,
    dictionary_id text NOT NULL
);

-- Housekeeping as a time series: raw values always, engineering values when the channel is known.
CREATE TABLE housekeeping (
    packet_id bigint NOT NULL,
    channel_id integer NOT NULL,
    sclk double precision NOT NULL,
    raw integer NOT NULL,
    value double precision,
    PRIMARY KEY (packet_id, channel_id)
);
CREATE INDEX housekeeping_time ON housekeeping (sclk);

-- Every abnormality, for the operations team. dedup_key makes recording idempotent.
CREATE TABLE anomalies (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'alarm')),
    observation_id bigint,
    pass_id bigint REFERENCES passes (id),
    packet_id bigint REFERENCES packets (id),
    file_offset bigint,
    evidence jsonb NOT NULL DEFAULT '{}',
    detected_at timestamptz NOT NULL DEFAULT now(),
    dedup_key text NOT NULL UNIQUE
);
CREATE INDEX anomalies_kind ON anomalies (kind);
CREATE INDEX anomalies_observation ON anomalies (observation_id);
CREATE INDEX anomalies_pass ON anomalies (pass_id);

-- Packet stream state saved between passes, per APID (the last packet in generation order).
CREATE TABLE stream_state (
    apid integer PRIMARY KEY,
    last_sequence_count integer NOT NULL,
    last_sclk double precision NOT NULL,
    last_ert_us bigint NOT NULL,
    wrap_correction integer NOT NULL
);
