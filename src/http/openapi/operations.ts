// What the route schemas cannot say, per operation: its operationId, who may call it (the security
// requirement), example request and response, and non-JSON response bodies. Keyed by
// "METHOD /openapi/path"; test/docs/openapi.test.ts fails for a route that has no entry here.
import {
  EX_ATTACHMENT,
  EX_DEAD_LETTER,
  EX_HEALTH,
  EX_IDS,
  EX_MEMBERS,
  EX_MESSAGE,
  EX_METRICS_JSON,
  EX_METRICS_TEXT,
  EX_NOTIFICATION,
  EX_REPLY,
  EX_ROOM,
  EX_ROOM_SUMMARY,
  EX_SUBSCRIPTION,
  EX_TENANT,
  EX_TENANT_CONFIG,
} from "./examples";

/** U: tenant key + user (or a signed user token); K: tenant key only; M: master key; public: none. */
export type AuthClass = "U" | "KU" | "K" | "M" | "public";

/** One operation's documentation beyond its route schemas. */
export interface OperationDoc {
  operationId: string;
  auth: AuthClass;
  /** Example request body (operations with a body). */
  request?: unknown;
  /** Example of the success response body, by status (the first 2xx when given as a plain value). */
  response?: unknown;
  /** Examples of particular statuses (default: `response` for 2xx, an error body for 4xx/5xx). */
  responseExamples?: Record<number, unknown>;
  /** Response descriptions that say more than the status text. */
  responseDescriptions?: Record<number, string>;
  /** Path/query parameter examples that differ from the shared ones. */
  params?: Record<string, unknown>;
  /** Non-JSON success bodies: status -> media type -> example. */
  rawContent?: Record<number, Record<string, { schema: Record<string, unknown>; example: unknown }>>;
}

const SECURITY: Record<AuthClass, Record<string, string[]>[]> = {
  U: [{ ApiKey: [], UserId: [] }, { BearerJWT: [] }],
  // Key + user only: a signed user token is refused (403) on these (/ws/token).
  KU: [{ ApiKey: [], UserId: [] }],
  K: [{ ApiKey: [] }],
  M: [{ MasterKey: [] }],
  public: [],
};

/** The OpenAPI security requirement of an auth class. */
export function securityOf(auth: AuthClass): Record<string, string[]>[] {
  return SECURITY[auth].map((r) => ({ ...r }));
}

/** The security schemes every requirement above names. */
export const SECURITY_SCHEMES = {
  ApiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "The tenant's API key (from `chatapi tenants create` or POST /admin/tenants). Never put it in a browser." },
  UserId: { type: "apiKey", in: "header", name: "X-User-Id", description: "The acting user (1..128 characters, no control characters), sent with X-API-Key." },
  MasterKey: { type: "apiKey", in: "header", name: "X-Master-Key", description: "The master key (MASTER_API_KEY, or DATA_DIR/master.key generated on first start)." },
  BearerJWT: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A user token signed by the tenant's backend (`Authorization: Bearer <jwt>`); it names the user, so no X-User-Id." },
} as const;

const CREATED_ROOM_REQUEST = { type: "group", name: "Launch team", members: ["bob", "carol"], metadata: { topic: "Release planning" } };

export const OPERATIONS: Record<string, OperationDoc> = {
  "GET /health": {
    operationId: "getHealth",
    auth: "public",
    response: EX_HEALTH,
    responseExamples: { 503: { ...EX_HEALTH, status: "error", db_writable: false, store: { kind: "sqlite", writable: false }, shutting_down: true } },
    responseDescriptions: { 200: "Alive and the database takes writes", 503: "Not ready: shutting down, or the database does not take writes" },
  },
  "GET /metrics": {
    operationId: "getMetrics",
    auth: "public",
    rawContent: {
      200: {
        "text/plain": { schema: { type: "string", description: "Prometheus text exposition format 0.0.4 (the default)" }, example: EX_METRICS_TEXT },
        "application/json": { schema: { $ref: "#/components/schemas/MetricsJson" }, example: EX_METRICS_JSON },
      },
    },
    responseDescriptions: { 200: "Prometheus text, or with ?format=json the six headline counters" },
  },
  "GET /console": {
    operationId: "getConsole",
    auth: "public",
    rawContent: { 200: { "text/html": { schema: { type: "string" }, example: "<!doctype html><html lang=\"en\">...</html>" } } },
    responseDescriptions: { 200: "The console's HTML page (it asks for keys and keeps them in memory only)" },
  },
  "POST /admin/tenants": { operationId: "createTenant", auth: "M", request: { name: "Acme", config: { webhook_url: "https://app.example.com/chatapi/webhook", webhook_secret: "whsec_5f1c0e9a7b3d" } }, response: { ...EX_TENANT, api_key: EX_IDS.apiKey } },
  "GET /admin/tenants": { operationId: "listTenants", auth: "M", response: { tenants: [EX_TENANT] } },
  "GET /admin/tenants/{tenant_id}": { operationId: "getTenant", auth: "M", response: EX_TENANT },
  "PATCH /admin/tenants/{tenant_id}": { operationId: "updateTenant", auth: "M", request: { name: "Acme Inc", config: { rate_limit: 200, webhook_url: null } }, response: { ...EX_TENANT, name: "Acme Inc", config: { ...EX_TENANT_CONFIG, rate_limit: 200, webhook_url: null } } },
  "POST /admin/tenants/{tenant_id}/rotate-key": { operationId: "rotateTenantKey", auth: "M", response: { tenant_id: EX_IDS.tenant, api_key: EX_IDS.apiKey } },
  "POST /rooms": { operationId: "createRoom", auth: "U", request: CREATED_ROOM_REQUEST, response: { ...EX_ROOM, last_seq: 0, updated_at: EX_ROOM.created_at }, responseDescriptions: { 200: "The existing DM of the pair (type dm only)", 201: "The room was created" } },
  "GET /rooms": { operationId: "listRooms", auth: "U", response: { rooms: [EX_ROOM_SUMMARY], next_cursor: null } },
  "GET /rooms/{room_id}": { operationId: "getRoom", auth: "U", response: EX_ROOM },
  "PATCH /rooms/{room_id}": { operationId: "updateRoom", auth: "U", request: { name: "Launch team (Q1)", metadata: { topic: "Q1 release" } }, response: { ...EX_ROOM, name: "Launch team (Q1)", metadata: { topic: "Q1 release" } } },
  "GET /rooms/{room_id}/members": { operationId: "listMembers", auth: "U", response: EX_MEMBERS },
  "POST /rooms/{room_id}/members": { operationId: "addMembers", auth: "U", request: { user_ids: ["dave"], role: "member" }, response: { members: [...EX_MEMBERS.members, { user_id: "dave", role: "member", joined_at: EX_MESSAGE.created_at, last_ack: 0 }] } },
  "PATCH /rooms/{room_id}/members/{user_id}": { operationId: "setMemberRole", auth: "U", request: { role: "admin" }, response: { ...EX_MEMBERS.members[1], role: "admin" } },
  "DELETE /rooms/{room_id}/members/{user_id}": { operationId: "removeMember", auth: "U" },
  "POST /rooms/{room_id}/messages": { operationId: "sendMessage", auth: "U", request: { content: "Shipping at 5 pm?", meta: { priority: "high" }, client_msg_id: EX_MESSAGE.client_msg_id, mentions: ["bob"] }, response: EX_MESSAGE, responseDescriptions: { 200: "A repeat of an earlier send (same client_msg_id or Idempotency-Key): the original message", 201: "The message was stored and fanned out" } },
  "GET /rooms/{room_id}/messages": { operationId: "listMessages", auth: "U", response: { messages: [EX_MESSAGE], has_more: false } },
  "GET /rooms/{room_id}/messages/{message_id}": { operationId: "getMessage", auth: "U", response: EX_MESSAGE },
  "PATCH /rooms/{room_id}/messages/{message_id}": { operationId: "editMessage", auth: "U", request: { content: "Shipping at 6 pm?" }, response: { ...EX_MESSAGE, content: "Shipping at 6 pm?", edited_at: "2026-01-15T09:35:00.000Z" } },
  "DELETE /rooms/{room_id}/messages/{message_id}": { operationId: "deleteMessage", auth: "U" },
  "GET /rooms/{room_id}/messages/{message_id}/replies": { operationId: "listReplies", auth: "U", response: { messages: [EX_REPLY], has_more: false } },
  "POST /rooms/{room_id}/messages/{message_id}/reactions": {
    operationId: "addReaction",
    auth: "U",
    request: { reaction: "👍" },
    response: EX_MESSAGE,
    responseDescriptions: { 200: "The message with its reactions (also when the caller already had this reaction: nothing changes then)" },
  },
  "DELETE /rooms/{room_id}/messages/{message_id}/reactions/{reaction}": {
    operationId: "removeReaction",
    auth: "U",
    params: { reaction: "👍" },
    responseDescriptions: { 204: "Removed, or it was not there" },
  },
  "GET /rooms/{room_id}/messages/{message_id}/reactions": {
    operationId: "listReactions",
    auth: "U",
    response: { reactions: [{ reaction: "👍", user_id: "bob", created_at: "2026-01-15T09:32:00.000Z" }, { reaction: "👍", user_id: "carol", created_at: "2026-01-15T09:32:00.000Z" }], next_cursor: null },
  },
  "GET /rooms/{room_id}/changes": {
    operationId: "listChanges",
    auth: "U",
    response: { messages: [EX_MESSAGE], next_cursor: "MTcuWnVwZkhfS1EzdnJq", has_more: false },
  },
  "GET /search": { operationId: "searchMessages", auth: "U", response: { messages: [EX_MESSAGE], next_cursor: "s1.MjAyNi0wMS0xNVQwOTozMTowMC4wMDBa" } },
  "POST /rooms/{room_id}/attachments": {
    operationId: "uploadAttachment",
    auth: "U",
    response: EX_ATTACHMENT,
    responseDescriptions: { 201: "Stored; attach it with `attachments: [attachment_id]` on a send", 413: "Over max_attachment_bytes, or the tenant's stored bytes would pass attachment_quota_bytes", 415: "Unsupported media type: uploads are multipart/form-data" },
  },
  "GET /attachments/{attachment_id}": {
    operationId: "downloadAttachment",
    auth: "U",
    rawContent: {
      200: { "application/octet-stream": { schema: { type: "string", format: "binary", description: "The file; inline types (png, jpeg, gif, webp, audio/*, video/*) are served with their own type" }, example: "(bytes)" } },
      206: { "application/octet-stream": { schema: { type: "string", format: "binary" }, example: "(bytes of the range)" } },
    },
    responseDescriptions: {
      200: "The file, with ETag, Content-Length, X-Content-Type-Options: nosniff, Content-Security-Policy: sandbox",
      206: "The requested byte range (Content-Range)",
      304: "Not modified (If-None-Match matched the ETag)",
      401: "No credentials, or a bad or expired signed url",
      416: "Range not satisfiable (Content-Range: bytes */size)",
    },
  },
  "POST /acks": { operationId: "ackMessages", auth: "U", request: { room_id: EX_IDS.room, seq: 42 }, response: { room_id: EX_IDS.room, last_ack: 42, unread_count: 0 } },
  "POST /ws/token": { operationId: "createWsToken", auth: "KU", response: { token: "pT4vW8yA1cE5gI9kM3oQ7sU0wY2aC6eG8iK1mO5qS7u", expires_in: 60 } },
  "GET /presence": { operationId: "getPresence", auth: "U", response: { presence: [{ user_id: "alice", status: "online", last_seen: "2026-01-15T09:31:12.345Z" }, { user_id: "bob", status: "offline", last_seen: null }] } },
  "GET /ws": { operationId: "openWebSocket", auth: "U", responseDescriptions: { 101: "Switching Protocols: from here on the socket speaks the frame protocol of the WebSocket reference (docs/)" } },
  "POST /notify": { operationId: "notify", auth: "K", request: { topic: "billing.invoice_ready", payload: { invoice: "INV-1042", amount_cents: 129900 }, targets: { user_ids: ["alice"], topic_subscribers: true } }, response: { notification_id: EX_IDS.notification, topic: "billing.invoice_ready", recipients: 3, created_at: EX_NOTIFICATION.created_at } },
  "GET /notifications": { operationId: "listNotifications", auth: "U", response: { notifications: [EX_NOTIFICATION] } },
  "POST /notifications/{notification_id}/ack": { operationId: "ackNotification", auth: "U" },
  "POST /subscriptions": { operationId: "subscribe", auth: "U", request: { topic: "billing.invoice_ready" }, response: EX_SUBSCRIPTION, responseDescriptions: { 200: "Already subscribed: the existing subscription", 201: "Subscribed" } },
  "GET /subscriptions": { operationId: "listSubscriptions", auth: "U", response: { subscriptions: [EX_SUBSCRIPTION] } },
  "DELETE /subscriptions/{id}": { operationId: "unsubscribe", auth: "U" },
  "GET /admin/dead-letters": { operationId: "listDeadLetters", auth: "K", response: { dead_letters: [EX_DEAD_LETTER] } },
  "POST /admin/dead-letters/{id}/retry": { operationId: "retryDeadLetter", auth: "K", params: { id: EX_IDS.deadLetter }, response: { id: EX_IDS.deadLetter, status: "pending" } },
};
