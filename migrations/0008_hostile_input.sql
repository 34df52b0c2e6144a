-- Hostile input and access (issue 14).
-- A delivery that includes embargoed observations is the team's, never a public release; its
-- products are not part of the public version history (exported_products).
ALTER TABLE export_deliveries ADD COLUMN team_internal boolean NOT NULL DEFAULT false;
-- Tokens may expire.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
-- The clock-wrap detector asks for the plans around each batch of a pass (ICD §6 plan evidence).
CREATE INDEX IF NOT EXISTS plans_start_sclk ON plans (start_sclk);
