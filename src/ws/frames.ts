// Client frames of docs/reference/websocket.md: TypeBox schemas, compiled checkers and `parseClientFrame`,
// the gateway's single entry point for untrusted frame text. Server frame and object types live in
// src/client/types.ts (so the browser client needs no server code) and are re-exported here.
import { t } from "elysia";
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import type {
  AckData,
  ChangesData,
  ClientFrame,
  ClientFrameType,
  DeleteMessageData,
  EditMessageData,
  ErrorDetail,
  ListRoomsData,
  NotificationAckData,
  ReactData,
  SendMessageData,
  SyncData,
  TypingData,
} from "../client/types.ts";

export type * from "../client/types.ts";

/** Longest `content` accepted by the schema (UTF-16 units); the domain then checks UTF-8 bytes. */
export const MAX_CONTENT_CHARS = 32_768;
/** Longest frame `id`. */
export const MAX_FRAME_ID_CHARS = 128;
/** Most validation details reported for one frame. */
export const MAX_ERROR_DETAILS = 10;

// Every data object is closed (additionalProperties: false) so a typo such as `roomId` is an error
// rather than a silently ignored field.
const closed = { additionalProperties: false } as const;
const Id = t.String({ minLength: 1, maxLength: 64 });
// Elysia's t.Integer also accepts numeric strings (query-string coercion); frames are JSON, so a
// seq must be a JSON number: use TypeBox's plain Integer (same TypeBox instance Elysia uses).
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Limit = Type.Integer({ minimum: 1, maximum: 200 });
const Content = t.String({ maxLength: MAX_CONTENT_CHARS });
// `meta` is any JSON value (null included); its 4 KiB serialized limit is the domain's check.
const Meta = t.Optional(t.Unknown());

// Mentions: user ids; the 50-distinct limit and membership are the domain's checks.
const Mentions = t.Optional(t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000 }));

/** `data` of `send_message`. */
export const SendMessageDataSchema = t.Object(
  {
    room_id: Id,
    content: t.Optional(Content),
    meta: Meta,
    client_msg_id: t.Optional(Id),
    parent_id: t.Optional(Id),
    mentions: Mentions,
    attachments: t.Optional(t.Array(Id, { maxItems: 10 })),
  },
  closed,
);
/** `data` of `edit_message`; whether anything changes is the domain's decision. */
export const EditMessageDataSchema = t.Object(
  { room_id: Id, message_id: Id, content: t.Optional(Content), meta: Meta, mentions: Mentions },
  closed,
);
/** `data` of `react` and `unreact`; the reaction's byte and character rules are the domain's check. */
export const ReactDataSchema = t.Object({ room_id: Id, message_id: Id, reaction: t.String({ minLength: 1, maxLength: 256 }) }, closed);
/** `data` of `changes`. */
export const ChangesDataSchema = t.Object({ room_id: Id, since: t.Optional(t.String({ maxLength: 128 })), limit: t.Optional(Limit) }, closed);
/** `data` of `delete_message`. */
export const DeleteMessageDataSchema = t.Object({ room_id: Id, message_id: Id }, closed);
/** `data` of `ack`; the upper bound (`last_seq`) is the domain's check. */
export const AckDataSchema = t.Object({ room_id: Id, seq: Seq }, closed);
/** `data` of `typing.start` and `typing.stop`. */
export const TypingDataSchema = t.Object({ room_id: Id }, closed);
/** `data` of `sync`. */
export const SyncDataSchema = t.Object(
  { room_id: Id, after_seq: t.Optional(Seq), before_seq: t.Optional(Seq), limit: t.Optional(Limit) },
  closed,
);
/** `data` of `list_rooms`. */
export const ListRoomsDataSchema = t.Object(
  { limit: t.Optional(Limit), cursor: t.Optional(t.String({ maxLength: 512 })) },
  closed,
);
/** `data` of `notification.ack`. */
export const NotificationAckDataSchema = t.Object({ notification_id: Id }, closed);
/** `data` of `ping`: none, or an empty object. */
export const PingDataSchema = t.Object({}, closed);

/** The `data` schema of every client frame type (docs/reference/websocket.md table). */
export const clientFrameDataSchemas = {
  send_message: SendMessageDataSchema,
  edit_message: EditMessageDataSchema,
  delete_message: DeleteMessageDataSchema,
  ack: AckDataSchema,
  "typing.start": TypingDataSchema,
  "typing.stop": TypingDataSchema,
  sync: SyncDataSchema,
  list_rooms: ListRoomsDataSchema,
  "notification.ack": NotificationAckDataSchema,
  react: ReactDataSchema,
  unreact: ReactDataSchema,
  changes: ChangesDataSchema,
  ping: PingDataSchema,
} as const satisfies Record<ClientFrameType, TSchema>;

/** Every client frame type, in docs/reference/rest.md order. */
export const CLIENT_FRAME_TYPES = Object.keys(clientFrameDataSchemas) as ClientFrameType[];

// Compile-time proof that the schemas and the hand-written client types agree.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type _SchemasMatchClientTypes = [
  Assert<Same<Static<typeof SendMessageDataSchema>, SendMessageData>>,
  Assert<Same<Static<typeof EditMessageDataSchema>, EditMessageData>>,
  Assert<Same<Static<typeof DeleteMessageDataSchema>, DeleteMessageData>>,
  Assert<Same<Static<typeof AckDataSchema>, AckData>>,
  Assert<Same<Static<typeof TypingDataSchema>, TypingData>>,
  Assert<Same<Static<typeof SyncDataSchema>, SyncData>>,
  Assert<Same<Static<typeof ListRoomsDataSchema>, ListRoomsData>>,
  Assert<Same<Static<typeof NotificationAckDataSchema>, NotificationAckData>>,
  Assert<Same<Static<typeof ReactDataSchema>, ReactData>>,
  Assert<Same<Static<typeof ChangesDataSchema>, ChangesData>>,
];

// Compiled once at module load; checking a frame is then a plain function call.
const checkers = new Map<string, TypeCheck<TSchema>>(
  CLIENT_FRAME_TYPES.map((type) => [type, TypeCompiler.Compile(clientFrameDataSchemas[type])]),
);

// Types whose data may be omitted (every field optional): the docs/reference/rest.md table shows `-` for ping, and
// sending `list_rooms` without data is what a user of the API expects to work.
const dataOptional = new Set<string>(["ping", "list_rooms"]);

// docs/reference/rest.md#conventions: "omitted optional fields are absent or null". These optional fields therefore
// accept null, which is removed before validation. `meta` is not listed: null is a value there.
const nullMeansAbsent: Record<string, readonly string[]> = {
  send_message: ["client_msg_id", "parent_id", "mentions", "attachments"],
  edit_message: ["content", "mentions"],
  changes: ["since", "limit"],
  sync: ["after_seq", "before_seq", "limit"],
  list_rooms: ["limit", "cursor"],
};

const envelopeKeys = new Set(["type", "id", "data"]);

/** Outcome of `parseClientFrame`: a validated frame, or an `invalid_request` error frame body. */
export type ParseClientFrameResult =
  | { ok: true; frame: ClientFrame }
  | {
      ok: false;
      id?: string;
      error: "invalid_request";
      message: string;
      details?: ErrorDetail[];
    };

type ParseFailure = Extract<ParseClientFrameResult, { ok: false }>;

function fail(id: string | undefined, message: string, details?: ErrorDetail[]): ParseFailure {
  const failure: ParseFailure = { ok: false, error: "invalid_request", message };
  if (id !== undefined) failure.id = id;
  if (details !== undefined && details.length > 0) failure.details = details;
  return failure;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Frame text is untrusted: never echo more than a short, JSON-quoted prefix of it.
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
}

function summarize(details: ErrorDetail[]): string {
  const first = details[0];
  if (first === undefined) return "invalid frame";
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : "";
  return `${first.path}: ${first.message}${more}`;
}

function validateData(type: string, checker: TypeCheck<TSchema>, data: unknown): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  // Errors() is lazy: stop early so a huge invalid payload costs bounded work.
  for (const error of checker.Errors(data)) {
    const path = `/data${error.path}`.slice(0, 200);
    // TypeBox reports a missing property twice ("required" then "expected string"): keep the first.
    if (seen.has(path)) continue;
    seen.add(path);
    details.push({ path, message: error.message });
    if (details.length >= MAX_ERROR_DETAILS) break;
  }
  if (details.length === 0) details.push({ path: "/data", message: `invalid ${type} data` });
  return details;
}

/**
 * Parses and validates one client frame's text; never throws. On failure returns the fields of an
 * `invalid_request` error frame, with the frame's `id` whenever it was a string (for correlation).
 */
export function parseClientFrame(text: string): ParseClientFrameResult {
  let id: string | undefined;
  try {
    if (typeof text !== "string") return fail(undefined, "frame must be JSON text");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return fail(undefined, "invalid JSON");
    }
    if (!isPlainObject(parsed)) return fail(undefined, "frame must be a JSON object");
    if (typeof parsed.id === "string") id = parsed.id;

    const type = parsed.type;
    if (typeof type !== "string") {
      const message = Object.hasOwn(parsed, "type") ? "Expected string" : "Expected required property";
      return fail(id, `/type: ${message}`, [{ path: "/type", message }]);
    }
    if (id !== undefined && (id.length < 1 || id.length > MAX_FRAME_ID_CHARS)) {
      const message = `Expected string of 1..${MAX_FRAME_ID_CHARS} characters`;
      return fail(id, `/id: ${message}`, [{ path: "/id", message }]);
    }
    if (Object.hasOwn(parsed, "id") && id === undefined) {
      return fail(undefined, "/id: Expected string", [{ path: "/id", message: "Expected string" }]);
    }
    const checker = checkers.get(type);
    if (checker === undefined) return fail(id, `unknown frame type ${quote(type)}`);

    const extra = Object.keys(parsed)
      .filter((key) => !envelopeKeys.has(key))
      .slice(0, MAX_ERROR_DETAILS)
      .map((key) => ({ path: `/${escapePointer(key)}`, message: "Unexpected property" }));
    if (extra.length > 0) return fail(id, summarize(extra), extra);

    let data = parsed.data;
    if (data === undefined || data === null) {
      if (!dataOptional.has(type)) {
        const details = [{ path: "/data", message: "Expected required property" }];
        return fail(id, summarize(details), details);
      }
      data = {};
    }
    if (isPlainObject(data)) {
      for (const key of nullMeansAbsent[type] ?? []) {
        if (Object.hasOwn(data, key) && data[key] === null) delete data[key];
      }
    }
    if (!checker.Check(data)) {
      const details = validateData(type, checker, data);
      return fail(id, summarize(details), details);
    }
    const frame = { type, data } as ClientFrame;
    if (id !== undefined) frame.id = id;
    return { ok: true, frame };
  } catch {
    // Defensive: nothing above is expected to throw, but a frame must never crash the socket.
    return fail(id, "invalid frame");
  }
}

// RFC 6901: "~" and "/" inside a key are escaped in a JSON pointer.
function escapePointer(key: string): string {
  const short = key.length > 64 ? `${key.slice(0, 64)}...` : key;
  return short.replaceAll("~", "~0").replaceAll("/", "~1");
}
