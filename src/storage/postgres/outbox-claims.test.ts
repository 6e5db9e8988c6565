// Outbox claims across processes, and migrations applied once by nodes starting together
// (real PostgreSQL, fresh databases; skipped with a notice when none is reachable).
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDatabase, createTestPostgresStore, postgresAvailable, type TestDatabase } from "../../../test/support/postgres";
import { deliveryRow, seedRoom } from "../../../test/support/store-rows";
import { openPostgresStore, type PostgresStore } from "./postgres-store";
import { PG_MIGRATIONS } from "./migrations";

const available = await postgresAvailable();
const CLAIMER = join(import.meta.dir, "../../../test/support/pg-claimer.ts");

/** Reads stdout lines of a child process as they come. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf) yield buf;
}

describe.skipIf(!available)("PostgreSQL outbox claims and migrations", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0)) await f();
  }, 30_000);

  test("two processes claiming one tenant's deliveries never claim the same row, and together claim every row once", async () => {
    const { store, db, dispose } = await createTestPostgresStore();
    cleanup.push(dispose);
    await seedRoom(store, "t1", "r1");
    const ids: string[] = [];
    await store.transaction(async (tx) => {
      const rows = Array.from({ length: 600 }, () => deliveryRow("t1"));
      for (const r of rows) ids.push(r.delivery_id);
      await tx.deliveries.insert(rows);
    });
    const procs = ["owner-a", "owner-b"].map((owner) =>
      Bun.spawn([process.execPath, CLAIMER, db.url, owner, "t1"], { stdin: "pipe", stdout: "pipe", stderr: "inherit" }),
    );
    const readers = procs.map((p) => lines(p.stdout));
    for (const r of readers) expect((await r.next()).value).toBe("ready");
    for (const p of procs) {
      p.stdin.write("go\n");
      p.stdin.end();
    }
    const claimedBy = await Promise.all(
      readers.map(async (r) => {
        const got: string[] = [];
        for await (const line of r) if (line.startsWith("[")) got.push(...(JSON.parse(line) as string[]));
        return got;
      }),
    );
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes).toEqual([0, 0]);
    const [a, b] = claimedBy as [string[], string[]];
    // Both took part (the start barrier released them together), neither claimed a row twice,
    // and no row was claimed by both.
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(new Set(a).size).toBe(a.length);
    expect(a.filter((id) => new Set(b).has(id))).toEqual([]);
    expect([...a, ...b].sort()).toEqual([...ids].sort());
    expect((await store.deliveries.stats()).pending).toBe(0);
  }, 60_000);

  test("a lease hides a claimed row until it expires; recordAttempt by another owner is refused", async () => {
    const { store, dispose } = await createTestPostgresStore();
    cleanup.push(dispose);
    await seedRoom(store, "t1", "r1");
    const row = deliveryRow("t1", { next_attempt_at: "2026-01-01T00:00:00.000Z" });
    await store.transaction((tx) => tx.deliveries.insert([row]));
    const now = "2026-01-01T00:00:01.000Z";
    const claim = (owner: string, at: string) => store.transaction((tx) => tx.deliveries.claimDue("t1", at, 10, { owner, until: "2026-01-01T00:01:00.000Z" }));
    expect((await claim("a", now)).map((d) => d.delivery_id)).toEqual([row.delivery_id]);
    expect(await claim("b", now)).toEqual([]);
    expect(await store.deliveries.dueTenants(now)).toEqual([]);
    expect(await store.deliveries.nextDueAfter(now)).toBe("2026-01-01T00:01:00.000Z");
    const result = { status: "delivered" as const, attempts: 1, at: now, targetUrl: null };
    expect(await store.transaction((tx) => tx.deliveries.recordAttempt(row.delivery_id, "b", result))).toBe(false);
    // After the lease, another owner takes it over; the first owner's late result is then refused.
    expect((await claim("b", "2026-01-01T00:01:00.000Z")).map((d) => d.delivery_id)).toEqual([row.delivery_id]);
    expect(await store.transaction((tx) => tx.deliveries.recordAttempt(row.delivery_id, "a", result))).toBe(false);
    expect(await store.transaction((tx) => tx.deliveries.recordAttempt(row.delivery_id, "b", result))).toBe(true);
    expect((await store.deliveries.get(row.delivery_id))!.status).toBe("delivered");
  }, 30_000);

  test("dueTenants lists every tenant with a due row (however many rows another tenant has)", async () => {
    const { store, dispose } = await createTestPostgresStore();
    cleanup.push(dispose);
    for (const t of ["ta", "tb", "tc"]) await seedRoom(store, t, "r");
    await store.transaction((tx) =>
      tx.deliveries.insert([
        ...Array.from({ length: 50 }, () => deliveryRow("ta", { next_attempt_at: "2026-01-01T00:00:00.000Z" })),
        deliveryRow("tb", { next_attempt_at: "2026-01-01T00:00:00.000Z" }),
        deliveryRow("tc", { next_attempt_at: "2027-01-01T00:00:00.000Z" }),
      ]),
    );
    expect((await store.deliveries.dueTenants("2026-06-01T00:00:00.000Z")).sort()).toEqual(["ta", "tb"]);
  }, 30_000);

  test("nodes starting together apply each migration once (advisory lock)", async () => {
    const db: TestDatabase = await createTestDatabase();
    const stores: PostgresStore[] = [];
    cleanup.push(async () => {
      for (const s of stores) await s.close();
      await db.drop();
    });
    stores.push(...(await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url: db.url, poolSize: 2 })))));
    const applied = stores.flatMap((s) => s.applied);
    expect(applied.sort()).toEqual(PG_MIGRATIONS.map((m) => m.name).sort());
    const rows = await stores[0]!.sql`SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name ORDER BY name`;
    expect(rows.map((r: any) => [r.name, r.n])).toEqual(PG_MIGRATIONS.map((m) => [m.name, 1]));
    // A later start applies nothing.
    const again = await openPostgresStore({ url: db.url, poolSize: 1 });
    stores.push(again);
    expect(again.applied).toEqual([]);
  }, 30_000);
});
