// What a publish says of this machine's services: the records its daemon keeps
// (.git/coord/services.json), each one's last lines of output redacted with
// its own secrets (resolved here, on the machine: never published), or, with
// no daemon running, that each needs one. A sync without a daemon that sees
// the fleet stopped (an emergency, a pause with stop) stops the services a
// daemon left running (killed -9) itself, by pid and process mark.
import type { Halt } from "../core/hub/controls.js";
import { outputTail } from "../core/trust/redact.js";
import type { RepoModel } from "../core/repo/repo.js";
import { addressedToMe, isUp, NO_SERVICES, type ServiceReport, serviceReports, writtenSecretValues } from "../core/services/services.js";
import { isSameProcess, readTail, stopGroup } from "../runner/service.js";
import { readServicesFile, serviceLog, writeServicesFile } from "../state/services.js";
import { resolveOrderSecrets } from "../state/secrets.js";
import { stillRuns } from "../state/lock.js";
import { timings } from "../timings.js";
import type { Machine } from "./machine.js";
import { unpublishable } from "../state/secrets.js";

/** Bytes of a service's log read for its last lines. */
const TAIL_BYTES = 32 * 1024;

/** Whether the daemon that wrote the records runs now (the same pid, and the process its mark names). */
async function supervised(sup: { pid: number; start?: string } | undefined): Promise<boolean> {
  if (!sup) return false;
  return sup.pid === process.pid || stillRuns(sup.pid, sup.start);
}

/**
 * The services of this machine as a publish says them. `stopOrphans`: in a
 * sync of no daemon, stop what a daemon left running when `halt` stops the
 * machine's work (else nothing would, until a daemon starts).
 */
export async function publishedServices(m: Machine, model: RepoModel, halt: Halt | undefined, stopOrphans: boolean): Promise<Record<string, ServiceReport>> {
  const me = m.config.name;
  const read = model.services ?? NO_SERVICES;
  const file = await readServicesFile(m.stateDir);
  // Most machines run no service: nothing more to read.
  if (file.services.size === 0 && !read.services.some((s) => addressedToMe(s, me))) return {};
  const underDaemon = await supervised(file.supervisor);
  if (!underDaemon && stopOrphans && halt?.stopRunning) {
    let stopped = false;
    for (const r of file.services.values()) {
      if (!isUp(r.state)) continue;
      if (r.pid !== undefined && r.start !== undefined && (await isSameProcess(r.pid, r.start)) === true) await stopGroup(r.pid, timings.killGraceS);
      r.state = "stopped";
      r.since = new Date().toISOString();
      r.reason = halt.reason;
      delete r.pid;
      delete r.start;
      delete r.startedAt;
      delete r.health;
      stopped = true;
    }
    if (stopped) await writeServicesFile(m.stateDir, file);
  }
  const wanted = new Map(read.services.filter((s) => addressedToMe(s, me)).map((s) => [s.id, s] as const));
  const ids = new Set([...wanted.keys(), ...file.services.keys()]);
  const outputs = new Map<string, string>();
  if (m.config.outputLines > 0)
    for (const id of ids) {
      // Only the output of a service defined now, whose secrets this machine can name: nothing else can be redacted for sure.
      const service = wanted.get(id);
      if (!service) continue;
      const tail = await readTail(serviceLog(m.stateDir, id), TAIL_BYTES);
      if (!tail) continue;
      const named = service.secretRefs ? await resolveOrderSecrets(m, service.secretRefs).catch(() => ({ refused: "" })) : undefined;
      if (named && "refused" in named) continue;
      const secrets = [...writtenSecretValues(service), ...(named ? Object.values(named.env) : []), ...(await unpublishable(m.stateDir, m.config))];
      const output = outputTail(tail, m.config.outputLines, 4000, secrets);
      if (output) outputs.set(id, output);
    }
  return serviceReports(me, read, file.services, { supervised: underDaemon, halt, outputs });
}
