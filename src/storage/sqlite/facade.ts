// The async face of the synchronous statement classes: every call checks that its handle is still
// open, runs the statement, and classifies SQLite errors (503 unavailable, unique violations).
import { TransactionClosedError } from "../errors";
import { classify } from "./errors";

/** The synchronous twin of an async interface: same methods, plain return values. */
export type Sync<T> = { [K in keyof T]: T[K] extends (...a: infer A) => Promise<infer R> ? (...a: A) => R : T[K] };

/** Says whether the handle a facade belongs to may still be used. */
export interface Gate {
  readonly open: boolean;
  /**
   * Reads outside transactions when commits are made durable asynchronously (wal-sync.ts): null when
   * everything committed is durable, else a promise to wait for first, so no read returns a row that
   * a power cut could still take back.
   */
  durable?(): Promise<void> | null;
}

/** A gate that is always open (reads outside transactions). */
export const ALWAYS_OPEN: Gate = { open: true };

/**
 * A class whose instances implement the async interface T by forwarding `names` to a Sync<T>
 * implementation. Built once per aggregate; an instance is one small object.
 */
export function facadeClass<T extends object>(names: readonly (keyof T & string)[]): new (impl: Sync<T>, gate: Gate) => T {
  class Facade {
    constructor(
      readonly impl: Sync<T>,
      readonly gate: Gate,
    ) {}
  }
  for (const name of names) {
    Object.defineProperty(Facade.prototype, name, {
      writable: true,
      configurable: true,
      // Not an async function: the statement runs now and its value is wrapped once (this is on the
      // hot path of every send). A throw still becomes a rejection, as a Promise API promises.
      value: function (this: Facade) {
        if (!this.gate.open) return Promise.reject(new TransactionClosedError());
        const wait = this.gate.durable?.();
        if (wait) {
          const args = arguments as unknown as unknown[];
          return wait.then(() => {
            try {
              return (this.impl[name] as (...a: unknown[]) => unknown).apply(this.impl, args);
            } catch (err) {
              throw classify(err);
            }
          });
        }
        try {
          return Promise.resolve((this.impl[name] as (...a: unknown[]) => unknown).apply(this.impl, arguments as unknown as unknown[]));
        } catch (err) {
          return Promise.reject(classify(err));
        }
      },
    });
  }
  return Facade as unknown as new (impl: Sync<T>, gate: Gate) => T;
}
