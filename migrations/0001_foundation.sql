-- Foundation: the instance's own key-value settings (schema_migrations is created by the runner).
CREATE TABLE areo_settings (
    key text PRIMARY KEY,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO areo_settings (key, value) VALUES ('schema_family', 'areo');
