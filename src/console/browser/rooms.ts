/// <reference lib="dom" />
// The pane's room list: entries kept from GET /rooms plus live frames, and their rendering.
import type { Message, RoomSummary, RoomType } from "@chatapi/client";
import { h, setChildren } from "./dom.ts";

/** One room as a pane tracks it. */
export interface RoomEntry {
  room_id: string;
  type: RoomType;
  name: string | null;
  created_at: string;
  /** Highest seq known for the room (REST last_seq or a live message). */
  lastSeq: number;
  unread: number;
  lastMessage: Message | null;
  activityAt: string;
  /** Member ids, once loaded (DM names and presence need them). */
  members: string[] | null;
  /** Seqs counted as unread from live frames since the last GET /rooms (to merge without double counting). */
  countedLive: Set<number>;
}

/** Merges one RoomSummary from GET /rooms into the pane's entry (REST is authoritative up to its last_seq). */
export function mergeSummary(entry: RoomEntry | undefined, s: RoomSummary): RoomEntry {
  if (!entry) {
    return {
      room_id: s.room_id,
      type: s.type,
      name: s.name,
      created_at: s.created_at,
      lastSeq: s.last_seq,
      unread: s.unread_count,
      lastMessage: s.last_message,
      activityAt: s.last_message?.created_at ?? s.created_at,
      members: null,
      countedLive: new Set(),
    };
  }
  let liveAfter = 0;
  for (const seq of entry.countedLive) if (seq > s.last_seq) liveAfter++;
  entry.countedLive.clear();
  entry.name = s.name;
  entry.unread = s.unread_count + liveAfter;
  if (s.last_seq >= entry.lastSeq) {
    entry.lastSeq = s.last_seq;
    entry.lastMessage = s.last_message;
    entry.activityAt = s.last_message?.created_at ?? s.created_at;
  }
  return entry;
}

/** The name shown for a room: a DM is named after the other member. */
export function roomTitle(entry: RoomEntry, me: string): string {
  if (entry.type === "dm") {
    const other = entry.members?.find((m) => m !== me);
    return other ?? entry.name ?? "Direct message";
  }
  return entry.name ?? `${entry.type} ${entry.room_id.slice(-6)}`;
}

/** Rooms by most recent activity first. */
export function sortRooms(entries: Iterable<RoomEntry>): RoomEntry[] {
  return [...entries].sort((a, b) => (a.activityAt < b.activityAt ? 1 : a.activityAt > b.activityAt ? -1 : 0));
}

export interface RoomListView {
  me: string;
  selected: string | null;
  /** Hide the unread badge of the room being read. */
  reading: string | null;
  presence: (userId: string) => "online" | "offline" | undefined;
  typing: (roomId: string) => string[];
  onSelect: (roomId: string) => void;
}

function preview(entry: RoomEntry, me: string, typing: string[]): string {
  if (typing.length) return `${typing.join(", ")} typing…`;
  const m = entry.lastMessage;
  if (!m) return entry.type === "dm" ? "Direct message" : "No messages yet";
  const who = m.sender_id === me ? "You" : m.sender_id;
  return m.deleted_at ? `${who}: message deleted` : `${who}: ${m.content}`;
}

/** Renders the list into `el` (a <ul>). */
export function renderRoomList(el: HTMLElement, entries: RoomEntry[], v: RoomListView): void {
  if (entries.length === 0) {
    setChildren(el, h("li", { class: "room-empty muted" }, "No rooms yet. Create one with “New room”."));
    return;
  }
  setChildren(
    el,
    entries.map((e) => {
      const typing = v.typing(e.room_id);
      const other = e.type === "dm" ? e.members?.find((m) => m !== v.me) : undefined;
      const status = other ? v.presence(other) : undefined;
      const unread = e.room_id === v.reading ? 0 : e.unread;
      return h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            class: `room${e.room_id === v.selected ? " selected" : ""}${unread > 0 ? " has-unread" : ""}`,
            "data-room-id": e.room_id,
            "aria-current": e.room_id === v.selected ? "true" : null,
            onclick: () => v.onSelect(e.room_id),
          },
          h("span", { class: "room-line" },
            e.type === "dm" ? h("span", { class: `dot ${status ?? "unknown"}`, title: status ?? "presence unknown" }) : h("span", { class: "room-kind", title: e.type }, "#"),
            h("span", { class: "room-name" }, roomTitle(e, v.me)),
            unread > 0 ? h("span", { class: "room-unread", title: `${unread} unread` }, unread > 99 ? "99+" : unread) : null,
          ),
          h("span", { class: `room-preview${typing.length ? " typing" : ""}` }, preview(e, v.me, typing)),
        ),
      );
    }),
  );
}
