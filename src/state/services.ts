// The services this machine's daemon runs: .git/coord/services.json (each
// one's state, pid and the process's mark, restarts, health), written
// by the daemon's supervisor and read by every publish; and each service's
// output, .git/coord/services/<id>.log (bounded: past 1 MiB it becomes
// <id>.log.1). A file coord cannot read counts as no record: the daemon that
// finds it starts what ORDERS.json says (a process it can no longer name is
// not adopted).
import { join } from "node:path";
import { ORDER_ID } from "../core/orders/orders-schema.js";
import { HEALTH_STATES, type HealthState, type RecordView, SERVICE_STATES } from "../core/services/services.js";
import { isRecord } from "../core/types.js";
import { readIfExists, writeWhole } from "./files.js";

export const SERVICES_FILE = "services.json";
export const SERVICES_DIR = "services";
/** A service's log is cut here (the part before is kept as <id>.log.1). */
export const SERVICE_LOG_CAP = 1024 * 1024;

/** One service as the daemon keeps it. */
export interface ServiceRecord extends RecordView {
  id: string;
  /** A mark of process `pid` taken when it started (platform/processes.ts processMark; an older coord's: its start time). */
  start?: string;
  /** The last exit: its code or signal, when. */
  lastExit?: { code: number | null; signal: string | null; at: string };
  /** Waiting to restart: when. */
  nextStartAt?: string;
}

export interface ServicesFile {
  /** The daemon that supervises them: its pid and that process's mark. */
  supervisor?: { pid: number; start?: string };
  services: Map<string, ServiceRecord>;
}

const path = (stateDir: string) => join(stateDir, SERVICES_FILE);

/** The log of service `id` (an id checked against ORDER_ID before it became a path). */
export function serviceLog(stateDir: string, id: string): string {
  if (!ORDER_ID.test(id)) throw new Error(`"${id}" is not a service id`);
  return join(stateDir, SERVICES_DIR, `${id}.log`);
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const int = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) ? v : undefined);

function health(v: unknown): HealthState | undefined {
  if (!isRecord(v) || !(HEALTH_STATES as readonly unknown[]).includes(v.status) || typeof v.since !== "string") return undefined;
  return { status: v.status as HealthState["status"], failures: int(v.failures) ?? 0, since: v.since, ...(str(v.reason) ? { reason: str(v.reason)! } : {}) };
}

/** One record as written, or undefined when it is not one (dropped: the daemon starts the service anew). */
function record(id: string, v: unknown): ServiceRecord | undefined {
  if (!isRecord(v) || !(SERVICE_STATES as readonly unknown[]).includes(v.state) || typeof v.hash !== "string" || typeof v.since !== "string") return undefined;
  const h = health(v.health);
  const exit = isRecord(v.lastExit) ? v.lastExit : undefined;
  return {
    id,
    rev: int(v.rev) ?? 1,
    hash: v.hash,
    state: v.state as ServiceRecord["state"],
    since: v.since,
    restarts: Array.isArray(v.restarts) ? v.restarts.filter((t): t is number => typeof t === "number" && Number.isFinite(t)) : [],
    ...(int(v.pid) !== undefined ? { pid: int(v.pid)! } : {}),
    ...(str(v.start) ? { start: str(v.start)! } : {}),
    ...(str(v.startedAt) ? { startedAt: str(v.startedAt)! } : {}),
    ...(h ? { health: h } : {}),
    ...(str(v.reason) ? { reason: str(v.reason)! } : {}),
    ...(exit && typeof exit.at === "string" ? { lastExit: { code: int(exit.code) ?? null, signal: str(exit.signal) ?? null, at: exit.at } } : {}),
    ...(str(v.nextStartAt) ? { nextStartAt: str(v.nextStartAt)! } : {}),
  };
}

/** The records (ids checked: every key is a service id), or none. */
export async function readServicesFile(stateDir: string): Promise<ServicesFile> {
  const text = await readIfExists(path(stateDir)).catch(() => undefined);
  const out: ServicesFile = { services: new Map() };
  if (!text) return out;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return out;
  }
  if (!isRecord(data)) return out;
  const sup = isRecord(data.supervisor) ? data.supervisor : undefined;
  const pid = int(sup?.pid);
  if (pid !== undefined) out.supervisor = { pid, ...(str(sup?.start) ? { start: str(sup?.start)! } : {}) };
  if (isRecord(data.services))
    for (const [id, v] of Object.entries(data.services)) {
      if (!ORDER_ID.test(id)) continue;
      const r = record(id, v);
      if (r) out.services.set(id, r);
    }
  return out;
}

/** Writes the records whole (temp file, rename). */
export async function writeServicesFile(stateDir: string, file: ServicesFile): Promise<void> {
  const services: Record<string, Omit<ServiceRecord, "id">> = {};
  for (const [id, { id: _id, ...r }] of [...file.services].sort(([a], [b]) => (a < b ? -1 : 1))) services[id] = r;
  await writeWhole(path(stateDir), `${JSON.stringify({ ...(file.supervisor ? { supervisor: file.supervisor } : {}), services }, null, 2)}\n`);
}
