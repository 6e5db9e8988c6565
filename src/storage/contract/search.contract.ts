// Contracts of SearchReads and AttachmentStore: the same results on every store.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { parseSearchQuery } from "../../chat/search-query";
import type { AttachmentRow } from "../attachment-store";
import type { Store } from "../store";
import { at, messageRow, tenantWithRoom } from "./fixtures";
import type { StoreFactory, StoreFixture } from "./harness";

/** Runs the search and attachment contracts. */
export function searchContract(name: string, factory: StoreFactory): void {
  describe(`${name}: search`, () => {
    let fx: StoreFixture;
    let store: Store;
    let seq = 0;
    const put = async (roomId: string, content: string, tenantId = "t1") => {
      seq++;
      const row = messageRow(tenantId, roomId, 0, { content, created_at: at(seq) });
      await store.transaction(async (tx) => {
        row.seq = await tx.rooms.nextSeq(tenantId, roomId, row.created_at);
        row.change_seq = await tx.rooms.nextChange(tenantId, roomId, 1);
        await tx.messages.insert(row);
      });
      return row;
    };
    const find = async (q: string, o: { roomId?: string; userId?: string; tenantId?: string; limit?: number; cursor?: string | null } = {}) =>
      store.search.messages({ tenantId: o.tenantId ?? "t1", userId: o.userId ?? "u1", roomId: o.roomId ?? null, terms: parseSearchQuery(q), cursor: o.cursor ?? null, limit: o.limit ?? 20 });
    const contents = async (q: string, o = {}) => (await find(q, o)).rows.map((r) => r.content);

    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
      seq = 0;
      await tenantWithRoom(store, "t1", "r1", ["u1", "u2"]);
      await tenantWithRoom(store, "t1", "r2", ["u2"]);
      await tenantWithRoom(store, "t2", "r9", ["u1"]);
    });
    afterEach(() => fx.dispose());

    test("whole words, AND, case and diacritics folded, prefixes, phrases; newest first", async () => {
      await put("r1", "Deploy the Café");
      await put("r1", "deployment of the cafe");
      await put("r1", "Crème brûlée, naïve façade");
      expect(await contents("deploy")).toEqual(["Deploy the Café"]);
      expect(await contents("deploy*")).toEqual(["deployment of the cafe", "Deploy the Café"]);
      expect(await contents("CAFÉ")).toEqual(["deployment of the cafe", "Deploy the Café"]);
      expect(await contents("creme brulee naive facade")).toEqual(["Crème brûlée, naïve façade"]);
      expect(await contents('"the cafe"')).toEqual(["deployment of the cafe", "Deploy the Café"]);
      expect(await contents('"cafe the"')).toEqual([]);
      expect(await contents('"of the caf"*')).toEqual(["deployment of the cafe"]);
      expect(await contents("deploy cafe")).toEqual(["Deploy the Café"]);
    });

    test("scope: the user's rooms of the tenant, or the given room; deleted and edited content", async () => {
      const a = await put("r1", "apple one");
      await put("r2", "apple two");
      await put("r9", "apple other tenant", "t2");
      expect(await contents("apple")).toEqual(["apple one"]);
      expect(await contents("apple", { userId: "u2" })).toEqual(["apple two", "apple one"]);
      expect(await contents("apple", { roomId: "r2" })).toEqual(["apple two"]);
      expect(await contents("apple", { tenantId: "t2" })).toEqual(["apple other tenant"]);
      await store.transaction(async (tx) => tx.messages.edit("t1", a.message_id, "pear one", null, at(100), await tx.rooms.nextChange("t1", "r1", 1), null));
      expect(await contents("apple")).toEqual([]);
      expect(await contents("pear")).toEqual(["pear one"]);
      await store.transaction(async (tx) => tx.messages.tombstone("t1", a.message_id, at(101), await tx.rooms.nextChange("t1", "r1", 1)));
      expect(await contents("pear")).toEqual([]);
    });

    test("pages with the store's cursor; a foreign cursor is rejected", async () => {
      for (let i = 0; i < 9; i++) await put("r1", `item ${i}`);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (;;) {
        const page: { rows: { content: string }[]; next: string | null } = await find("item", { limit: 4, cursor });
        seen.push(...page.rows.map((r) => r.content));
        if (page.next === null) break;
        cursor = page.next;
      }
      expect(seen).toEqual(Array.from({ length: 9 }, (_, i) => `item ${8 - i}`));
      expect(await find("item", { cursor: "garbage|x" }).catch((e) => e.code)).toBe("invalid_request");
    });

    test("operator characters are text: hostile terms never throw", async () => {
      await put("r1", 'a "quoted" word, NEAR(x) and a:* <-> !b \\ back');
      for (const q of ['"', "NEAR(x", "a:*", "<->", "!b", "\\", "'", "OR", "-x", "^a", "a+b", "content:x", "((", "*a*", "x'y", "\u0000q"]) {
        const r = await find(`${q} zz`).catch((e) => e);
        expect(Array.isArray(r.rows)).toBe(true);
      }
      expect(await contents('"quoted"')).toHaveLength(1);
      expect(await contents("NEAR(x)")).toHaveLength(1);
    });
  });

  describe(`${name}: attachments`, () => {
    let fx: StoreFixture;
    let store: Store;
    const att = (id: string, extra: Partial<AttachmentRow> = {}): AttachmentRow => ({
      tenant_id: "t1",
      attachment_id: id,
      room_id: "r1",
      uploader_id: "u1",
      filename: "a.txt",
      content_type: "text/plain",
      size: 10,
      sha256: "0".repeat(64),
      created_at: at(),
      message_id: null,
      blob_key: `t1/${id}`,
      ...extra,
    });
    beforeEach(async () => {
      fx = await factory();
      store = fx.store;
      await tenantWithRoom(store, "t1", "r1", ["u1", "u2"]);
    });
    afterEach(() => fx.dispose());

    test("insert within the quota, usage, attach once, remove for a message, orphans", async () => {
      expect(await store.transaction((tx) => tx.attachments.insert(att("a1"), 25))).toBe(true);
      expect(await store.transaction((tx) => tx.attachments.insert(att("a2"), 25))).toBe(true);
      expect(await store.transaction((tx) => tx.attachments.insert(att("a3"), 25))).toBe(false);
      expect(await store.attachments.usage("t1")).toBe(20);
      expect(await store.attachments.get("t1", "a3")).toBeNull();
      expect((await store.attachments.byIdAnyTenant("a1"))?.tenant_id).toBe("t1");
      expect(await store.attachments.get("t2", "a1")).toBeNull();
      expect(await store.transaction((tx) => tx.attachments.attach("t1", ["a1"], "m1"))).toBe(1);
      expect(await store.transaction((tx) => tx.attachments.attach("t1", ["a1"], "m2"))).toBe(0);
      expect((await store.attachments.orphans(at(1), 10)).map((a) => a.attachment_id)).toEqual(["a2"]);
      expect((await store.transaction((tx) => tx.attachments.removeForMessage("t1", "m1"))).map((a) => a.attachment_id)).toEqual(["a1"]);
      expect(await store.attachments.usage("t1")).toBe(10);
      expect((await store.transaction((tx) => tx.attachments.remove("t1", "a2")))?.attachment_id).toBe("a2");
      expect(await store.attachments.usage("t1")).toBe(0);
    });

    test("concurrent inserts never pass the quota", async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.transaction((tx) => tx.attachments.insert(att(`c${i}`), 35))));
      expect(results.filter(Boolean).length).toBe(3);
      expect(await store.attachments.usage("t1")).toBe(30);
    });

    test("messages keep their attachments' metadata; a tombstone drops it", async () => {
      const meta = { attachment_id: "a1", room_id: "r1", uploader_id: "u1", filename: "é.png", content_type: "image/png", size: 3, sha256: "ab".repeat(32), created_at: at() };
      const row = messageRow("t1", "r1", 1, { content: "", attachments: [meta] });
      await store.transaction(async (tx) => {
        await tx.rooms.nextSeq("t1", "r1", at());
        row.change_seq = await tx.rooms.nextChange("t1", "r1", 1);
        await tx.messages.insert(row);
      });
      expect((await store.messages.byId("t1", row.message_id))?.attachments).toEqual([meta]);
      await store.transaction(async (tx) => tx.messages.tombstone("t1", row.message_id, at(1), await tx.rooms.nextChange("t1", "r1", 1)));
      expect((await store.messages.byId("t1", row.message_id))?.attachments).toEqual([]);
    });
  });
}
