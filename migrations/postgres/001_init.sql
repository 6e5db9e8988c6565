-- Tenants and their API keys. Only the SHA-256 of a key is stored.
-- Key columns use the "C" collation: ids compare bytewise, exactly as in SQLite (listings order and
-- page by them), whatever the database's default collation.
CREATE TABLE tenants (
  tenant_id      text COLLATE "C" PRIMARY KEY,
  name           text NOT NULL,
  api_key_hash   text COLLATE "C" NOT NULL,
  -- The config keys the tenant set explicitly (rate_limit, ...); defaults resolve at read.
  -- json, not jsonb: values come back byte for byte, keys in the order they were given.
  config         json NOT NULL DEFAULT '{}',
  webhook_secret text,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX tenants_api_key_hash ON tenants (api_key_hash);

-- /health performs a real write here.
CREATE TABLE health_probe (id integer PRIMARY KEY CHECK (id = 1), checked_at timestamptz NOT NULL);
