// JSON columns: values in the domain, text in SQLite (NULL for null).

/** Column text for a JSON value (null/undefined -> NULL). */
export function toJsonColumn(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** The JSON value of a column (NULL -> null). */
export function fromJsonColumn(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** An Instant from an integer ms column. */
export function msToInstant(ms: number): string {
  return new Date(ms).toISOString();
}

/** An integer ms column value from an Instant. */
export function instantToMs(at: string): number {
  const ms = Date.parse(at);
  if (!Number.isFinite(ms)) throw new TypeError(`not an ISO instant: ${at}`);
  return ms;
}
