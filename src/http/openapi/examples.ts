// Example values of the OpenAPI document: one consistent story (tenant "Acme", users alice and bob,
// a group room) so the examples of different operations refer to each other.

const T0 = "2026-01-15T09:30:00.000Z";
const T1 = "2026-01-15T09:31:12.345Z";

export const EX_IDS = {
  tenant: "01945c1e-7a52-7c3e-9d1a-5b2f8e4c6a10",
  room: "01945c1f-0b3d-7e21-8a4c-2f6d9e1b7c35",
  message: "01945c20-4e6f-7a18-b2c3-d4e5f6a7b8c9",
  notification: "01945c21-9a8b-7c6d-8e5f-4a3b2c1d0e9f",
  subscription: "01945c22-1b2c-7d3e-9f4a-5b6c7d8e9f0a",
  deadLetter: "01945c23-2c3d-7e4f-8a5b-6c7d8e9f0a1b",
  apiKey: "Zq3d8X2mN7pL0vR5tY9wB4cF6hJ1kM8nQ2sU5xA7eGi",
  wsToken: "pT4vW8yA1cE5gI9kM3oQ7sU0wY2aC6eG8iK1mO5qS7u",
  attachment: "01945c24-5d6e-7f80-9a1b-2c3d4e5f6a7b",
} as const;

export const EX_TENANT_CONFIG = {
  rate_limit: 100,
  rate_limit_burst: 200,
  user_message_rate: 10,
  max_message_bytes: 4000,
  webhook_url: "https://app.example.com/chatapi/webhook",
  has_webhook_secret: true,
  has_jwt_secret: true,
  jwt_public_keys: [{ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", kid: "app-2026-12", alg: "EdDSA", use: "sig" }],
  max_attachment_bytes: 10485760,
  attachment_quota_bytes: 1073741824,
  max_connections: 10000,
  max_pending_deliveries: 100000,
};

export const EX_TENANT = { tenant_id: EX_IDS.tenant, name: "Acme", config: EX_TENANT_CONFIG, created_at: T0 };

export const EX_ROOM = {
  room_id: EX_IDS.room,
  type: "group",
  name: "Launch team",
  metadata: { topic: "Release planning" },
  last_seq: 42,
  created_by: "alice",
  created_at: T0,
  updated_at: T1,
};

export const EX_MESSAGE = {
  message_id: EX_IDS.message,
  room_id: EX_IDS.room,
  seq: 42,
  sender_id: "alice",
  content: "Shipping at 5 pm?",
  meta: { priority: "high" },
  client_msg_id: "c0ffee00-1111-4222-8333-444455556666",
  created_at: T1,
  edited_at: null,
  deleted_at: null,
  parent_id: null,
  reply_count: 2,
  last_reply_at: "2026-01-15T09:40:00.000Z",
  mentions: ["bob"],
  reactions: [{ reaction: "👍", count: 2, user_ids: ["bob", "carol"] }],
  attachments: [] as unknown[],
};

export const EX_ATTACHMENT = {
  attachment_id: EX_IDS.attachment,
  room_id: EX_IDS.room,
  uploader_id: "alice",
  filename: "release-plan.png",
  content_type: "image/png",
  size: 48213,
  sha256: "9f2b5c0d1e7a4b3c8d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c",
  created_at: T1,
  url: `/attachments/${EX_IDS.attachment}?expires=1768473000&signature=3c1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19`,
  url_expires_at: "2026-01-15T10:30:00.000Z",
};

export const EX_REPLY = {
  ...EX_MESSAGE,
  message_id: "01945c24-5f70-7b8c-9d0e-1f2a3b4c5d6e",
  seq: 44,
  sender_id: "bob",
  content: "Works for me",
  meta: null,
  client_msg_id: null,
  created_at: "2026-01-15T09:40:00.000Z",
  parent_id: EX_MESSAGE.message_id,
  reply_count: 0,
  last_reply_at: null,
  mentions: [],
  reactions: [],
};

export const EX_ROOM_SUMMARY = { ...EX_ROOM, last_ack: 40, unread_count: 2, unread_mentions: 1, last_message: EX_MESSAGE };

export const EX_MEMBERS = {
  members: [
    { user_id: "alice", role: "owner", joined_at: T0, last_ack: 42 },
    { user_id: "bob", role: "member", joined_at: T0, last_ack: 40 },
  ],
};

export const EX_NOTIFICATION = {
  notification_id: EX_IDS.notification,
  topic: "billing.invoice_ready",
  payload: { invoice: "INV-1042", amount_cents: 129900 },
  created_at: T1,
  acked_at: null,
};

export const EX_SUBSCRIPTION = { id: EX_IDS.subscription, topic: "billing.invoice_ready", created_at: T0 };

export const EX_DEAD_LETTER = {
  id: EX_IDS.deadLetter,
  kind: "message.new",
  target_url: "https://app.example.com/chatapi/webhook",
  attempts: 5,
  last_error: "HTTP 500",
  payload: { event_id: EX_IDS.deadLetter, type: "message.new", tenant_id: EX_IDS.tenant, recipient_id: "bob", message: EX_MESSAGE },
  created_at: T1,
  last_attempt_at: "2026-01-15T10:02:40.000Z",
};

export const EX_ERROR = {
  error: "invalid_request",
  message: "content must not be empty",
  request_id: "01945c24-3d4e-7f5a-9b6c-7d8e9f0a1b2c",
  details: [{ path: "/content", message: "must not be empty" }],
};

export const EX_HEALTH = { status: "ok", service: "chatapi", version: "0.1.0", uptime_seconds: 3600, db_writable: true, store: { kind: "sqlite", writable: true }, bus: { kind: "memory", connected: true } };

export const EX_METRICS_JSON = {
  active_connections: 12,
  messages_sent: 5821,
  dropped_broadcasts: 0,
  delivery_attempts: 311,
  delivery_failures: 4,
  uptime_seconds: 3600,
};

export const EX_METRICS_TEXT = "# HELP chatapi_messages_sent_total Messages accepted\n# TYPE chatapi_messages_sent_total counter\nchatapi_messages_sent_total 5821\n";

/** Example values of path, query and header parameters, by parameter name. */
export const EX_PARAMS: Record<string, unknown> = {
  room_id: EX_IDS.room,
  message_id: EX_IDS.message,
  user_id: "bob",
  tenant_id: EX_IDS.tenant,
  notification_id: EX_IDS.notification,
  id: EX_IDS.subscription,
  user_ids: "alice,bob",
  limit: 50,
  after_seq: 40,
  before_seq: 43,
  cursor: "eyJzIjoiMjAyNi0wMS0xNVQwOTozMDowMC4wMDBaIn0",
  attachment_id: EX_IDS.attachment,
  q: "deploy* \"release plan\"",
  expires: "1768473000",
  signature: "3c1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19",
  unacked: true,
  format: "json",
  token: "pT4vW8yA1cE5gI9kM3oQ7sU0wY2aC6eG8iK1mO5qS7u",
  "idempotency-key": "c0ffee00-1111-4222-8333-444455556666",
};
