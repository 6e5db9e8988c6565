-- Tenants and their API keys. Only the SHA-256 of a key is stored.
CREATE TABLE tenants (
  tenant_id      TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  api_key_hash   TEXT NOT NULL,
  -- JSON object of the config keys the tenant set explicitly (rate_limit, ...); defaults resolve at read.
  config         TEXT NOT NULL DEFAULT '{}',
  webhook_secret TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX tenants_api_key_hash ON tenants(api_key_hash);

-- /health performs a real write here.
CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at TEXT NOT NULL);
