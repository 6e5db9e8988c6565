// The real write behind GET /health.
import type { Database, Statement } from "bun:sqlite";

/** Performs one durable write; true when the database accepted it. */
export class SqliteHealthProbe {
  private readonly q: Statement;
  constructor(private readonly db: Database) {
    this.q = db.query("INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET checked_at = excluded.checked_at");
  }
  writable(now: Date): boolean {
    try {
      this.q.run(now.toISOString());
      return true;
    } catch {
      return false;
    }
  }
}
