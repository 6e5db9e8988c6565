// Crash safety, short variant (2-3 SIGKILLs); `bun run chaos` runs the long one.
import { expect, test } from "bun:test";
import { runCrashScenario } from "./lib/crash";
import { seedFromEnv } from "./lib/prng";

test("crash safety: SIGKILL under concurrent REST + WS sends loses nothing, duplicates nothing, delivers every webhook", async () => {
  const seed = seedFromEnv();
  console.log(`crash seed=${seed} (RELIABILITY_SEED=${seed} reproduces the inputs)`);
  const f = await runCrashScenario({ seed, kills: 3, restSenders: 3, wsSenders: 2, rooms: 3, lifeMs: [400, 1000], paceMs: 10, log: (l) => console.log(l) });
  console.log(`crash: kills ${f.kills}, sent ${f.sent}, acked ${f.acked}, checked ${f.checked}, lost ${f.lost}, retried ${f.retried}, webhooks ${f.webhooksExpected - f.webhooksMissing}/${f.webhooksExpected} (repeats ${f.webhookRepeats}), integrity ${f.integrity}`);
  expect(f.problems).toEqual([]);
  expect(f.kills).toBe(3);
  expect(f.lost).toBe(0);
  expect(f.checked).toBe(f.acked);
  expect(f.acked).toBeGreaterThan(20);
  expect(f.integrity).toBe("ok");
}, 90_000);
