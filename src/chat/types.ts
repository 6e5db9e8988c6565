// The public objects of docs/reference/rest.md as the domain returns them. Room, Message and RoomSummary
// are the contract types of src/client/types.ts (type-only imports: the browser client stays free of
// server code, and the server cannot drift from what the client expects).
import type { Attachment, MemberRole, Message, Room, RoomSummary, RoomType } from "../client/types";
import type { Tenant } from "../tenancy/tenants";

export type { Attachment, Message, Room, RoomSummary, RoomType };
export type Role = MemberRole;

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
