// coord services: the fleet's services as the remote's latest commit shows
// them (each machine's report: state, health, pid, restarts, uptime), with
// this machine's own records; coord logs --service <id>: a service's output
// on this machine, from .git/coord/services/<id>.log (and <id>.log.1).
import { readFile, stat } from "node:fs/promises";
import { ORDER_ID } from "../core/orders/orders-schema.js";
import { unknownName } from "../core/status/terminal.js";
import { CoordError, EXIT } from "../errors.js";
import { stateDirOf } from "../state/paths.js";
import { type ServiceRecord, readServicesFile, serviceLog } from "../state/services.js";
import { type StatusResult, status } from "../actions/status.js";
import type { ServiceStatus } from "../core/fleet/status-types.js";

export interface ServicesResult {
  result: StatusResult;
  services: Record<string, ServiceStatus>;
  /** This machine's own records (.git/coord/services.json), by id. */
  local: Map<string, ServiceRecord>;
}

export async function services(opts: { dir: string; fetch?: boolean; now?: Date }): Promise<ServicesResult> {
  const result = await status(opts);
  const local = (await readServicesFile(await stateDirOf(opts.dir))).services;
  return { result, services: result.status.services ?? {}, local };
}

/** A service id from the command line, checked before it becomes a path. */
export function checkServiceId(id: string): void {
  if (!ORDER_ID.test(id)) throw new CoordError(`"${id}" is not a service id (letters, digits, ".", "_" and "-", starting with a letter or digit)`, EXIT.USAGE);
}

export interface ServiceLogOptions {
  /** Only the last n lines (before following); all kept when absent. */
  limit?: number;
  follow?: boolean;
  out: (line: string) => void;
  ready?: (line: string) => void;
  signal?: AbortSignal;
  intervalMs?: number;
}

/** Prints service `id`'s output kept on this machine; with follow, what it writes next (the log cut short under it starts over). */
export async function serviceLogs(dir: string, id: string, opts: ServiceLogOptions): Promise<void> {
  checkServiceId(id);
  const stateDir = await stateDirOf(dir);
  const path = serviceLog(stateDir, id);
  const older = await readFile(`${path}.1`, "utf8").catch(() => "");
  const current = await readFile(path, "utf8").catch(() => undefined);
  if (current === undefined && !older) {
    const known = [...(await readServicesFile(stateDir)).services.keys()];
    if (!opts.follow) throw new CoordError(`${unknownName("service", id, known)}: no output of it is kept on this machine (${path})`, EXIT.USAGE);
  }
  const lines = (older + (current ?? "")).replace(/\n$/, "").split("\n");
  const shown = opts.limit !== undefined ? lines.slice(-opts.limit) : lines;
  if (shown.length && !(shown.length === 1 && shown[0] === "")) for (const l of shown) opts.out(l);
  if (!opts.follow) return;
  opts.ready?.(`following ${path} — Ctrl-C to stop`);
  let position = Buffer.byteLength(current ?? "");
  let partial = "";
  const signal = opts.signal ?? new AbortController().signal;
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size < position) position = 0; // cut short (bounded): it starts over
    if (size === position) continue;
    const text = (await readFile(path).catch(() => Buffer.alloc(0))).subarray(position, size).toString("utf8");
    position = size;
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    for (const l of parts) opts.out(l);
  }
}
