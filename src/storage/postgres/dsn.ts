// PostgreSQL DSNs: recognising them and describing them without their credentials.
import type { StoreDescription } from "../health-store";

/** True for postgres:// and postgresql:// URLs (DATABASE_DSN selects PostgreSQL with them). */
export function isPostgresDsn(dsn: string): boolean {
  return /^postgres(ql)?:\/\//i.test(dsn);
}

/** host:port/database of a DSN: what /health and logs may show (never the user or password). */
export function describeDsn(url: string): StoreDescription {
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, "")) || decodeURIComponent(u.username) || "postgres";
    return { kind: "postgres", location: `${u.hostname || "localhost"}:${u.port || "5432"}/${db}` };
  } catch {
    return { kind: "postgres", location: "(unparsable DSN)" };
  }
}

/** The DSN with its password replaced by "***" (for error messages). */
export function redactDsn(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}
