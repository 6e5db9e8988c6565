import type { Tenant } from "../tenancy/tenants";

// The public objects of API.md section 3 (Room, RoomSummary, Message, Member) as the domain returns them.

export type RoomType = "dm" | "group" | "channel";
export type Role = "owner" | "admin" | "member";

/** API.md Room. `metadata` is any JSON value (null when unset). */
export interface Room {
  room_id: string;
  type: RoomType;
  name: string | null;
  metadata: unknown;
  last_seq: number;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** API.md Message. Tombstones have `content: ""`, `meta: null`, `deleted_at` set. */
export interface Message {
  message_id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  content: string;
  meta: unknown;
  client_msg_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
}

/** Room plus the caller's view (API.md RoomSummary). */
export interface RoomSummary extends Room {
  last_ack: number;
  unread_count: number;
  last_message: Message | null;
}

/** One member with their read position (the read-receipt view). */
export interface Member {
  user_id: string;
  role: Role;
  joined_at: string;
  last_ack: number;
}

/** The caller of a domain operation: tenant and acting user, already authenticated. */
export interface Actor {
  tenant: Tenant;
  userId: string;
}
