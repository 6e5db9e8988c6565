// Typebox schemas shared by several route modules; they also document the API in OpenAPI.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";

export const ErrorDetailSchema = t.Object({ path: t.String(), message: t.String() });

/** The error body of docs/reference/rest.md#conventions. */
export const ErrorSchema = t.Object(
  {
    error: t.String({ description: "Error code from the catalog" }),
    message: t.String(),
    request_id: t.String(),
    details: t.Optional(t.Array(ErrorDetailSchema)),
    retry_after_ms: t.Optional(Type.Integer()),
  },
  { description: "Error" },
);

/** Standard error responses, merged into each route's `response`. */
export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  409: ErrorSchema,
  413: ErrorSchema,
  415: ErrorSchema,
  429: ErrorSchema,
  500: ErrorSchema,
  503: ErrorSchema,
};

export const UserIdHeader = t.String({ minLength: 1, maxLength: 128, description: "The acting user (1..128 chars, no control characters)" });

/** Any JSON value up to 4 KiB serialized (room metadata, message meta). */
export const AnyJson = t.Unknown({ description: "Any JSON value (object, array, string, number, boolean, null); at most 4 KiB serialized" });

/** A stored public JWK (only public members). */
export const PublicJwkSchema = t.Object({
  kty: t.String(),
  kid: t.String(),
  alg: t.String(),
  use: t.Optional(t.String()),
  n: t.Optional(t.String()),
  e: t.Optional(t.String()),
  crv: t.Optional(t.String()),
  x: t.Optional(t.String()),
  y: t.Optional(t.String()),
});

export const TenantConfigSchema = t.Object({
  rate_limit: Type.Integer({ minimum: 1 }),
  rate_limit_burst: Type.Integer({ minimum: 1 }),
  user_message_rate: Type.Integer({ minimum: 1 }),
  max_message_bytes: Type.Integer({ minimum: 1, maximum: 8192 }),
  webhook_url: t.Union([t.String(), t.Null()]),
  has_webhook_secret: t.Boolean(),
  has_jwt_secret: t.Boolean({ description: "A jwt_secret (HS256) is set; the secret itself is write-only" }),
  jwt_public_keys: t.Array(PublicJwkSchema, { description: "Public JWKs that verify signed user tokens (RS256, ES256, EdDSA), selected by the token's kid" }),
  max_attachment_bytes: Type.Integer({ minimum: 1, maximum: 104_857_600, description: "Largest upload in bytes (default MAX_ATTACHMENT_BYTES)" }),
  attachment_quota_bytes: Type.Integer({ minimum: 0, description: "Bytes of attachments the tenant may store (default ATTACHMENT_QUOTA_BYTES)" }),
  max_connections: Type.Integer({ minimum: 0, description: "Open WebSockets of the tenant (on all nodes together in cluster mode); the next handshake gets 429" }),
  max_pending_deliveries: Type.Integer({ minimum: 0, description: "Pending webhook deliveries past which new ones become dead letters" }),
});

export const TenantSchema = t.Object({
  tenant_id: t.String(),
  name: t.String(),
  config: TenantConfigSchema,
  created_at: t.String({ description: "RFC 3339 UTC with milliseconds (date-time)" }),
});

/** Config keys accepted on create/patch; `null` resets a key to its default. Integers are strict (no numeric strings). */
export const TenantConfigInputSchema = t.Object(
  {
    rate_limit: t.Optional(t.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), t.Null()])),
    rate_limit_burst: t.Optional(t.Union([Type.Integer({ minimum: 1, maximum: 10_000_000 }), t.Null()])),
    user_message_rate: t.Optional(t.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), t.Null()])),
    max_message_bytes: t.Optional(t.Union([Type.Integer({ minimum: 1, maximum: 8192 }), t.Null()])),
    max_attachment_bytes: t.Optional(t.Union([Type.Integer({ minimum: 1, maximum: 104_857_600, description: "Largest upload in bytes, at most 100 MiB; null: MAX_ATTACHMENT_BYTES" }), t.Null()])),
    attachment_quota_bytes: t.Optional(t.Union([Type.Integer({ minimum: 0, maximum: 1_125_899_906_842_624, description: "Stored attachment bytes allowed; null: ATTACHMENT_QUOTA_BYTES" }), t.Null()])),
    webhook_url: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 2048 }), t.Null()])),
    webhook_secret: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 256 }), t.Null()])),
    jwt_secret: t.Optional(
      t.Union([t.String({ minLength: 1, maxLength: 2048, description: "HS256 secret of signed user tokens, 32..512 bytes; write-only; null clears it" }), t.Null()]),
    ),
    jwt_public_keys: t.Optional(
      t.Union([
        t.Array(t.Record(t.String(), t.Unknown()), { maxItems: 20, description: "Public JWKs (RS256, ES256 on P-256, EdDSA on Ed25519), each with a unique kid; replaces the list; null clears it" }),
        t.Null(),
      ]),
    ),
    max_connections: t.Optional(t.Union([Type.Integer({ minimum: 0, maximum: 10_000_000 }), t.Null()])),
    max_pending_deliveries: t.Optional(t.Union([Type.Integer({ minimum: 0, maximum: 1_000_000_000 }), t.Null()])),
  },
  { additionalProperties: false },
);
