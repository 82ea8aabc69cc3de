// A rename that waits out Windows' passing holds on a file (core/platform/files.ts
// says which errors and how long); on Linux and macOS it is fs's own rename.
import { rename as fsRename } from "node:fs/promises";
import { renameRetryAfter } from "../core/platform/files.js";
import { system } from "./system.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fs's rename, tried again while Windows says another process holds the file (at most 10 s). `op`: the rename itself. */
export async function rename(from: string, to: string, platform: NodeJS.Platform = system(), op: (from: string, to: string) => Promise<void> = fsRename): Promise<void> {
  const first = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(from, to);
    } catch (e) {
      const wait = renameRetryAfter(platform, (e as NodeJS.ErrnoException).code, attempt, Date.now() - first);
      if (wait === undefined) throw e;
      await sleep(wait);
    }
  }
}
