// What the pure tests build on: one machine's published file as coord writes it, a task's report, and the files of a
// repository at one commit with the fleet they make.
import { type ComputerFile, renderComputer, type TaskReport } from "../src/core/fleet/computer.js";
import { computerPath } from "../src/core/files/names.js";
import { ORDERS_FILE, readModel } from "../src/core/repo/repo.js";
import { deriveStatus } from "../src/core/status/status.js";
import type { StatusJson } from "../src/core/fleet/status-types.js";

/** The instant the pure tests start from. */
export const T0_ISO = "2025-06-01T10:00:00.000Z";

/** A registered, idle machine seen at T0, with `over` on top. */
export function computerFile(name: string, over: Partial<ComputerFile> = {}): ComputerFile {
  return {
    coord: 1,
    name,
    uuid: `uuid-of-${name}`,
    state: "idle",
    lastSeen: T0_ISO,
    heartbeat: 300,
    capabilities: { os: "linux", node: "20.20.2" },
    orders: { seen: "0123456789abcdef0123456789abcdef01234567", valid: true },
    tasks: {},
    ...over,
  };
}

/** A task's report: completed at T0, first attempt, exit 0, with `over` on top. */
export function taskReport(over: Partial<TaskReport> = {}): TaskReport {
  return { rev: 1, state: "completed", attempts: 1, exitCode: 0, startedAt: T0_ISO, finishedAt: T0_ISO, ...over };
}

/** ORDERS.json's text with these orders. */
export function ordersJson(orders: object[]): string {
  return JSON.stringify({ version: 1, orders }, null, 2) + "\n";
}

/** The files of a repository at one commit: ORDERS.json plus rendered COMPUTER files. */
export function repoFiles(orders: string | undefined, computers: ComputerFile[]): Map<string, string> {
  const files = new Map<string, string>();
  if (orders !== undefined) files.set(ORDERS_FILE, orders);
  for (const c of computers) files.set(computerPath(c.name), renderComputer(c));
  return files;
}

/** STATUS.json as any machine derives it from those files. */
export function statusOf(files: Map<string, string>): StatusJson {
  return deriveStatus(readModel(files));
}

/**
 * How many random cases a generated test tries: COORD_FUZZ_RUNS when set (npm run test:quick sets 100; a long hunt
 * sets 100000), else `otherwise`, each test's own (its cases cost more or less). An empty or non-number value is unset.
 */
export function fuzzRuns(otherwise: number): number {
  return Number(process.env.COORD_FUZZ_RUNS) || otherwise;
}

/** mulberry32: a small seeded generator, uniform in [0, 1): the same cases, or the same race, on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
