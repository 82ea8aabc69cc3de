// "Sync now" asked of a daemon (src/daemon/request.ts): a request written after the watch began is seen once,
// by a watch of the state directory and by the polling that stands in when the directory cannot be watched;
// a request that was there before the daemon started is not a new one. (The daemon acting on it, end to end:
// test/mcp.e2e.test.ts.)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { requestSync, watchSyncRequests } from "../src/daemon/request.js";
import { waitFor } from "./helpers.js";
import { patient } from "./patience.js";

const dirs: string[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each([
  ["a watch of the directory", false],
  ["polling (every 2 s in a daemon; 200 ms here)", true],
])("sync requests through %s", (_how, poll) => {
  it("each request written after the watch began is reported once; one there before is not", { timeout: patient(20_000) }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "coord-sync-request-"));
    dirs.push(dir);
    await requestSync(dir, new Date(Date.now() - 60_000)); // left by an asker before this daemon started
    let seen = 0;
    const w = watchSyncRequests(
      dir,
      () => seen++,
      () => {},
      { poll, pollMs: 200 },
    );
    closers.push(() => w.close());
    await sleep(500);
    expect(seen).toBe(0);
    await requestSync(dir);
    await waitFor(async () => seen === 1, 5_000, "the request reported", 20);
    expect(seen).toBe(1);
    await sleep(500); // the same request is not reported again
    expect(seen).toBe(1);
    await sleep(20); // (a new mtime)
    await requestSync(dir);
    await waitFor(async () => seen === 2, 5_000, "the second request reported", 20);
    expect(seen).toBe(2);
  });

  it("a request for a publish is told apart from one for a sync, and neither hides the other", { timeout: patient(20_000) }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "coord-sync-request-"));
    dirs.push(dir);
    const kinds: string[] = [];
    const w = watchSyncRequests(
      dir,
      (kind) => kinds.push(kind),
      () => {},
      { poll, pollMs: 200 },
    );
    closers.push(() => w.close());
    await sleep(300);
    await requestSync(dir, new Date(), "publish");
    await waitFor(async () => kinds.length === 1, 5_000, "the publish request reported", 20);
    expect(kinds).toEqual(["publish"]);
    await requestSync(dir);
    await requestSync(dir, new Date(), "publish");
    await waitFor(async () => kinds.length === 3, 5_000, "both requests reported", 20);
    expect(kinds.slice(1).sort()).toEqual(["publish", "sync"]);
  });
});
