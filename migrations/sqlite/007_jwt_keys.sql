-- Signed user tokens (JWT): per-tenant verification keys. `jwt_secret` is the HS256 secret (write-only
-- through the API); `jwt_public_keys` a JSON array of public JWKs (each with a unique kid), or NULL.
ALTER TABLE tenants ADD COLUMN jwt_secret TEXT;
ALTER TABLE tenants ADD COLUMN jwt_public_keys TEXT;
