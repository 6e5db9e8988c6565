// Convenience methods of ChatClient: one typed wrapper per client frame type of docs/reference/websocket.md.
import type { RequestArgs, RequestOptions } from "./connection-types.ts";
import type { AckReply, ChangesReply, ClientFrameType, ClientRequests, ListRoomsReply, Message, SyncReply } from "./types.ts";
import { randomId } from "./util.ts";

/** Options of `sendMessage`. */
export interface SendMessageOptions extends RequestOptions {
  meta?: unknown;
  /** Idempotency key; generated when absent so a retry never duplicates. `null` sends none. */
  clientMsgId?: string | null;
  /** Makes the message a reply to this thread root (a top-level message of the same room). */
  parentId?: string;
  /** 0..50 distinct members of the room to mention. */
  mentions?: string[];
  /** Attachment ids from `uploadAttachment` (0..10); with at least one, `content` may be "". */
  attachments?: string[];
}

/** Changes of `editMessage`: `meta: null` clears it; an absent field stays as it is. */
export interface EditMessageChanges {
  content?: string;
  meta?: unknown;
  /** Replaces the message's mentions. */
  mentions?: string[];
}

/** Page of `changes`: without `since`, the reply carries only the room's present cursor. */
export interface ChangesOptions extends RequestOptions {
  since?: string;
  limit?: number;
}

/** History window of `sync` (same rules as REST history). */
export interface SyncOptions extends RequestOptions {
  afterSeq?: number;
  beforeSeq?: number;
  limit?: number;
}

/** Page of `listRooms`. */
export interface ListRoomsOptions extends RequestOptions {
  limit?: number;
  cursor?: string;
}

/** The typed wrappers; ChatClient supplies `request`. */
export abstract class ChatClientMethods {
  /** Sends one frame and resolves with its reply data (see ChatClient.request). */
  abstract request<T extends ClientFrameType>(type: T, ...args: RequestArgs<T>): Promise<ClientRequests[T]["reply"]>;

  /** Sends a message; resolves with the stored Message (the original one on a repeated client_msg_id). */
  sendMessage(roomId: string, content: string, options: SendMessageOptions = {}): Promise<Message> {
    const data: ClientRequests["send_message"]["data"] = { room_id: roomId, content };
    if ("meta" in options) data.meta = options.meta;
    if (options.attachments !== undefined) data.attachments = options.attachments;
    const clientMsgId = options.clientMsgId === undefined ? randomId() : options.clientMsgId;
    if (clientMsgId !== null) data.client_msg_id = clientMsgId;
    if (options.parentId !== undefined) data.parent_id = options.parentId;
    if (options.mentions !== undefined) data.mentions = options.mentions;
    return this.request("send_message", data, timeout(options));
  }

  /** Replies in the thread of `parentId`; resolves with the reply (the root's reply_count follows via `thread.updated`). */
  sendReply(roomId: string, parentId: string, content: string, options: Omit<SendMessageOptions, "parentId"> = {}): Promise<Message> {
    return this.sendMessage(roomId, content, { ...options, parentId });
  }

  /** Adds the caller's reaction; resolves with the Message (an existing reaction changes nothing). */
  react(roomId: string, messageId: string, reaction: string, options?: RequestOptions): Promise<Message> {
    return this.request("react", { room_id: roomId, message_id: messageId, reaction }, options);
  }

  /** Removes the caller's reaction (no error when it was absent). */
  async unreact(roomId: string, messageId: string, reaction: string, options?: RequestOptions): Promise<void> {
    await this.request("unreact", { room_id: roomId, message_id: messageId, reaction }, options);
  }

  /** One page of the room's changes feed (see also `trackChanges`, which pages it after every connect). */
  changes(roomId: string, options: ChangesOptions = {}): Promise<ChangesReply> {
    const data: ClientRequests["changes"]["data"] = { room_id: roomId };
    if (options.since !== undefined) data.since = options.since;
    if (options.limit !== undefined) data.limit = options.limit;
    return this.request("changes", data, timeout(options));
  }

  /** Edits the caller's own message; resolves with the updated Message. */
  editMessage(roomId: string, messageId: string, changes: EditMessageChanges, options?: RequestOptions): Promise<Message> {
    const data: ClientRequests["edit_message"]["data"] = { room_id: roomId, message_id: messageId };
    if (changes.content !== undefined) data.content = changes.content;
    if ("meta" in changes) data.meta = changes.meta;
    if (changes.mentions !== undefined) data.mentions = changes.mentions;
    return this.request("edit_message", data, options);
  }

  /** Deletes a message (leaves a tombstone with the same seq). */
  async deleteMessage(roomId: string, messageId: string, options?: RequestOptions): Promise<void> {
    await this.request("delete_message", { room_id: roomId, message_id: messageId }, options);
  }

  /** Acknowledges `roomId` up to `seq`; resolves with the caller's ack state. */
  ack(roomId: string, seq: number, options?: RequestOptions): Promise<AckReply> {
    return this.request("ack", { room_id: roomId, seq }, options);
  }

  /** Tells the other members the caller started typing (the server stops it after 8 s). */
  async typingStart(roomId: string, options?: RequestOptions): Promise<void> {
    await this.request("typing.start", { room_id: roomId }, options);
  }

  /** Tells the other members the caller stopped typing. */
  async typingStop(roomId: string, options?: RequestOptions): Promise<void> {
    await this.request("typing.stop", { room_id: roomId }, options);
  }

  /** Reads a history page; does not emit `message` events nor move the room's lastSeq. */
  sync(roomId: string, options: SyncOptions = {}): Promise<SyncReply> {
    const data: ClientRequests["sync"]["data"] = { room_id: roomId };
    if (options.afterSeq !== undefined) data.after_seq = options.afterSeq;
    if (options.beforeSeq !== undefined) data.before_seq = options.beforeSeq;
    if (options.limit !== undefined) data.limit = options.limit;
    return this.request("sync", data, timeout(options));
  }

  /** Lists the caller's rooms, most recent activity first. */
  listRooms(options: ListRoomsOptions = {}): Promise<ListRoomsReply> {
    const data: ClientRequests["list_rooms"]["data"] = {};
    if (options.limit !== undefined) data.limit = options.limit;
    if (options.cursor !== undefined) data.cursor = options.cursor;
    return this.request("list_rooms", data, timeout(options));
  }

  /** Marks a notification as acknowledged. */
  async ackNotification(notificationId: string, options?: RequestOptions): Promise<void> {
    await this.request("notification.ack", { notification_id: notificationId }, options);
  }

  /** Round trip to the server; resolves with the elapsed milliseconds. */
  async ping(options?: RequestOptions): Promise<number> {
    const started = Date.now();
    await this.request("ping", undefined, options);
    return Date.now() - started;
  }
}

function timeout(options: RequestOptions): RequestOptions | undefined {
  return options.timeoutMs === undefined ? undefined : { timeoutMs: options.timeoutMs };
}
