-- Single-use WebSocket tokens. Stored as SHA-256; purged after expiry.
CREATE TABLE ws_tokens (
  token_hash TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL REFERENCES tenants(tenant_id),
  user_id    TEXT NOT NULL,
  expires_at INTEGER NOT NULL            -- unix ms
) WITHOUT ROWID;
CREATE INDEX ws_tokens_expiry ON ws_tokens(expires_at);
