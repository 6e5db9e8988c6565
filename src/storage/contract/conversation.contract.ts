// Contract of the conversation columns and tables: change positions (RoomStore.nextChange, the
// changes index), thread and top-level ranges, mention rows, reaction rows and summaries.
import { describe, expect, test } from "bun:test";
import type { MessageRow } from "../message-store";
import type { Store } from "../store";
import { at, messageRow } from "./fixtures";
import { storeWithRoomPerTest, type StoreFactory } from "./harness";

/** A send as the domain does it: seq, change position, insert (a reply also bumps its root). */
async function send(store: Store, extra: Partial<MessageRow> = {}): Promise<MessageRow> {
  return store.transaction(async (tx) => {
    const seq = await tx.rooms.nextSeq("t1", "r1", at(1));
    const parent = extra.parent_id ?? null;
    const change = await tx.rooms.nextChange("t1", "r1", parent ? 2 : 1);
    const row = messageRow("t1", "r1", seq, { ...extra, change_seq: parent ? change - 1 : change });
    await tx.messages.insert(row);
    if (row.mentions.length) await tx.messages.addMentions("t1", "r1", seq, row.mentions);
    if (parent) {
      const root = (await tx.messages.byId("t1", parent))!;
      await tx.messages.setThread("t1", parent, root.reply_count + 1, row.created_at, change);
    }
    return row;
  });
}

/** Runs the conversation contract against `factory`'s stores. */
export function conversationContract(name: string, factory: StoreFactory): void {
  describe(`${name}: threads, mentions, reactions, changes`, () => {
    let store: Store;
    storeWithRoomPerTest(factory, (s) => (store = s));

    test("nextChange reserves n positions and returns the last; lastChange reads it; unknown room: null", async () => {
      expect(await store.rooms.lastChange("t1", "r1")).toBe(0);
      expect(await store.transaction((tx) => tx.rooms.nextChange("t1", "r1", 2))).toBe(2);
      expect(await store.transaction((tx) => tx.rooms.nextChange("t1", "r1", 1))).toBe(3);
      expect(await store.rooms.lastChange("t1", "r1")).toBe(3);
      expect(await store.rooms.lastChange("t1", "nope")).toBeNull();
      expect(await store.rooms.countMembers("t1", "r1", ["u1", "u2", "stranger"])).toBe(2);
      expect(await store.rooms.countMembers("t1", "r1", [])).toBe(0);
      // A rolled-back reservation is given back.
      await store.transaction(async (tx) => {
        await tx.rooms.nextChange("t1", "r1", 5);
        throw new Error("rollback");
      }).catch(() => {});
      expect(await store.rooms.lastChange("t1", "r1")).toBe(3);
    });

    test("concurrent changes get distinct, gapless positions", async () => {
      const got = await Promise.all(Array.from({ length: 30 }, () => store.transaction((tx) => tx.rooms.nextChange("t1", "r1", 1))));
      expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    });

    test("new columns round-trip; changedAfter returns change_seq order, each message once", async () => {
      const root = await send(store, { mentions: ["u2"] });
      const reply = await send(store, { parent_id: root.message_id });
      const back = (await store.messages.byId("t1", root.message_id))!;
      expect(back).toMatchObject({ parent_id: null, reply_count: 1, last_reply_at: reply.created_at, mentions: ["u2"], reactions: [], change_seq: 3 });
      expect((await store.messages.byId("t1", reply.message_id))!).toMatchObject({ parent_id: root.message_id, reply_count: 0, last_reply_at: null, change_seq: 2 });
      const changed = await store.messages.changedAfter("t1", "r1", 0, 10);
      expect(changed.map((m) => [m.message_id, m.change_seq])).toEqual([[reply.message_id, 2], [root.message_id, 3]]);
      expect((await store.messages.changedAfter("t1", "r1", 2, 10)).map((m) => m.message_id)).toEqual([root.message_id]);
      expect(await store.messages.changedAfter("t1", "r1", 0, 1)).toHaveLength(1);
    });

    test("thread and top-level ranges", async () => {
      const r1 = await send(store);
      const r2 = await send(store);
      const a = await send(store, { parent_id: r1.message_id });
      const b = await send(store, { parent_id: r2.message_id });
      const c = await send(store, { parent_id: r1.message_id });
      const seqs = (rows: MessageRow[]) => rows.map((m) => m.seq);
      expect(seqs(await store.messages.after("t1", "r1", 0, null, 10, { parentId: r1.message_id }))).toEqual([a.seq, c.seq]);
      expect(seqs(await store.messages.before("t1", "r1", null, 1, { parentId: r1.message_id }))).toEqual([c.seq]);
      expect(seqs(await store.messages.after("t1", "r1", 0, null, 10, { topLevel: true }))).toEqual([r1.seq, r2.seq]);
      expect(seqs(await store.messages.before("t1", "r1", b.seq, 10, { topLevel: true }))).toEqual([r1.seq, r2.seq]);
      expect(seqs(await store.messages.after("t1", "r1", 0, null, 10))).toEqual([1, 2, 3, 4, 5]);
      expect(await store.messages.latestReplyAt("t1", "r1", r1.message_id)).toBe(c.created_at);
      await store.transaction((tx) => tx.messages.tombstone("t1", c.message_id, at(50), 99));
      expect(await store.messages.latestReplyAt("t1", "r1", r1.message_id)).toBe(a.created_at);
      expect(await store.messages.latestReplyAt("t1", "r1", r2.message_id)).toBe(b.created_at);
    });

    test("mention rows: unreadMentions counts rows after a seq; remove deletes them; edit with mentions replaces the column", async () => {
      const m1 = await send(store, { mentions: ["u2"] });
      const m2 = await send(store, { mentions: ["u2"] });
      await send(store);
      expect(await store.messages.unreadMentions("t1", "r1", "u2", 0)).toBe(2);
      expect(await store.messages.unreadMentions("t1", "r1", "u2", m1.seq)).toBe(1);
      expect(await store.messages.unreadMentions("t1", "r1", "u1", 0)).toBe(0);
      expect([...(await store.messages.unreadMentionsIn("t1", "u2", [{ room_id: "r1", after_seq: 0 }, { room_id: "r1x", after_seq: 0 }]))]).toEqual([["r1", 2], ["r1x", 0]]);
      expect([...(await store.messages.unreadMentionsIn("t1", "u2", [{ room_id: "r1", after_seq: m1.seq }]))]).toEqual([["r1", 1]]);
      expect((await store.messages.unreadMentionsIn("t1", "u2", [])).size).toBe(0);
      await store.transaction(async (tx) => {
        await tx.messages.removeMentions("t1", "r1", m2.seq, ["u2"]);
        await tx.messages.edit("t1", m2.message_id, "e", null, at(9), 10, ["u1"]);
      });
      expect(await store.messages.unreadMentions("t1", "r1", "u2", 0)).toBe(1);
      expect((await store.messages.byId("t1", m2.message_id))!.mentions).toEqual(["u1"]);
      await store.transaction((tx) => tx.messages.edit("t1", m2.message_id, "e2", null, at(10), 11, null));
      expect((await store.messages.byId("t1", m2.message_id))!).toMatchObject({ content: "e2", mentions: ["u1"], change_seq: 11 });
    });

    test("reaction rows: insert, has, per-user count, ord-ordered listing with filter and cursor, first reactors, delete; tombstone drops them", async () => {
      const m = await send(store);
      const add = (reaction: string, user: string, ord: number) =>
        store.transaction((tx) => tx.messages.insertReaction({ tenant_id: "t1", message_id: m.message_id, reaction, user_id: user, ord, created_at: at(ord) }));
      await add("a", "u1", 10);
      await add("b", "u2", 11);
      await add("a", "u2", 12);
      await add("b", "u1", 13);
      expect(await store.messages.hasReaction("t1", m.message_id, "a", "u2")).toBe(true);
      expect(await store.messages.hasReaction("t1", m.message_id, "c", "u2")).toBe(false);
      expect(await store.messages.userReactionCount("t1", m.message_id, "u1")).toBe(2);
      const all = await store.messages.reactions("t1", m.message_id, null, null, 10);
      expect(all.map((r) => [r.reaction, r.user_id, r.ord])).toEqual([["a", "u1", 10], ["b", "u2", 11], ["a", "u2", 12], ["b", "u1", 13]]);
      expect(all[0]!.created_at).toBe(at(10));
      expect((await store.messages.reactions("t1", m.message_id, "a", 10, 10)).map((r) => r.user_id)).toEqual(["u2"]);
      expect(await store.messages.firstReactors("t1", m.message_id, "b", 1)).toEqual(["u2"]);
      expect(await store.transaction((tx) => tx.messages.deleteReaction("t1", m.message_id, "b", "u2"))).toBe(true);
      expect(await store.transaction((tx) => tx.messages.deleteReaction("t1", m.message_id, "b", "u2"))).toBe(false);
      expect(await store.messages.firstReactors("t1", m.message_id, "b", 10)).toEqual(["u1"]);
      const summary = [{ reaction: "a", count: 2, user_ids: ["u1", "u2"] }, { reaction: "b", count: 1, user_ids: ["u1"] }];
      await store.transaction((tx) => tx.messages.setReactions("t1", m.message_id, summary, 20));
      expect((await store.messages.byId("t1", m.message_id))!).toMatchObject({ reactions: summary, change_seq: 20 });
      await store.transaction((tx) => tx.messages.tombstone("t1", m.message_id, at(30), 21));
      expect((await store.messages.byId("t1", m.message_id))!).toMatchObject({ reactions: [], content: "", change_seq: 21 });
      expect(await store.messages.reactions("t1", m.message_id, null, null, 10)).toEqual([]);
    });
  });
}
