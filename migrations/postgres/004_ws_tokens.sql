-- Single-use WebSocket tokens. Stored as SHA-256; purged after expiry.
CREATE TABLE ws_tokens (
  token_hash text COLLATE "C" PRIMARY KEY,
  tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (tenant_id),
  user_id    text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX ws_tokens_expiry ON ws_tokens (expires_at);
