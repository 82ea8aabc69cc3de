// coord demo: the seeds' three machines on a local hub, a person's orders
// committed with plain git, real commands run by real syncs.
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cloneInto, commitAsPerson, pushBranch } from "../git/local.js";
import { loadConfig, saveConfig } from "../state/config.js";
import { stateDirOf } from "../state/paths.js";
import { hubCreate } from "../actions/hub.js";
import { init } from "../actions/init.js";
import { ack, inbox, send } from "../actions/messages.js";
import { status, type StatusResult } from "../actions/status.js";
import { sync, type SyncResult } from "../sync/sync.js";

export const DEMO_MACHINES = ["izzit7", "soda-yeti", "machine-2"] as const;

export const DEMO_ORDERS = {
  $schema: "coordination/orders.schema.json",
  version: 1,
  // A hub on this machine keeps no host's limit, and the demo's three rounds take seconds: a budget of 600 pushes a
  // minute (on GitHub, leave it out: 6, its recommendation; core/budget/budget.ts).
  hub: { pushesPerMinute: 600 },
  orders: [
    { id: "hello", to: "ALL", run: 'echo "hello from $COORD_MACHINE on $(uname -sm)"' },
    { id: "toolchain", to: ["izzit7", "soda-yeti"], run: "node --version && git --version" },
    { id: "disk", to: "machine-2", run: "df -h . | tail -n 1", priority: "high" },
    { id: "count-etc", to: "soda-yeti", run: "ls /etc | wc -l" },
    { id: "flaky", to: "machine-2", run: 'test "$COORD_ATTEMPT" -ge 2 || { echo "attempt $COORD_ATTEMPT fails"; exit 3; }; echo "attempt $COORD_ATTEMPT works"', retries: 1 },
    { id: "too-slow", to: "izzit7", run: "echo starting; sleep 30", timeout: "2s" },
    { id: "build", to: "machine-2", run: "echo compiling; sleep 1; echo built" },
    { id: "test", to: "soda-yeti", after: ["build"], run: "echo testing what machine-2 built" },
    { id: "one-of-you", to: "ANY", requires: ["git"], run: 'echo "claimed by $COORD_MACHINE, run exactly once"' },
  ],
};

export interface DemoOptions {
  dir?: string;
  log?: (line: string) => void;
}

export interface DemoResult {
  root: string;
  hub: string;
  person: string;
  machines: Record<string, string>;
  rounds: SyncResult[][];
  final: StatusResult;
}

export async function demo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? (() => {});
  const root = opts.dir ? resolve(opts.dir) : await mkdtemp(join(tmpdir(), "coord-demo-"));
  await mkdir(root, { recursive: true });
  const hub = join(root, "hub.git");
  await hubCreate(hub);
  log(`hub: created ${hub}`);

  const machines: Record<string, string> = {};
  for (const name of DEMO_MACHINES) {
    const dir = join(root, name);
    await init({ dir, name, remote: hub });
    // A demo has no time to wait: retry a failed task at the very next sync.
    const stateDir = await stateDirOf(dir);
    await saveConfig(stateDir, { ...(await loadConfig(stateDir))!, retryBackoff: 0 });
    machines[name] = dir;
    log(`${name}: registered (checkout ${dir})`);
  }

  // A person edits ORDERS.json with plain git, as on any laptop.
  const person = join(root, "person");
  await cloneInto(hub, person, root);
  await writeFile(join(person, "ORDERS.json"), JSON.stringify(DEMO_ORDERS, null, 2) + "\n");
  await commitAsPerson(person, ["ORDERS.json"], { name: "A Person", email: "person@example.com" }, "Orders for the fleet");
  await pushBranch(person, "origin", "main");
  log(`person: pushed ORDERS.json with ${DEMO_ORDERS.orders.length} orders`);

  // Machines talk too: a direct message and a broadcast, durable at once, published at the next sync. A send checks
  // its recipient against the machines its machine's last sync verified: machine-2 registered last, and knows them all.
  const direct = await send({ dir: machines["machine-2"]!, to: "soda-yeti", text: "machine-2 here: the toolchain order is for you too, please confirm" });
  const broadcast = await send({ dir: machines.izzit7!, to: "ALL", text: "izzit7: disk check running, back in a minute", priority: "high" });
  log(`machine-2: queued message ${direct.id}; izzit7: queued broadcast ${broadcast.id}`);

  const rounds: SyncResult[][] = [];
  let acknowledged = false;
  for (let round = 1; round <= 3; round++) {
    log(`round ${round}: the three machines sync at the same time`);
    const results = await Promise.all(DEMO_MACHINES.map((name) => sync({ dir: machines[name]! })));
    for (const r of results) {
      const ran = r.ran.map((t) => `${t.id}=${t.state}${t.reason ? ` (${t.reason})` : ""}`).join(", ") || "nothing new";
      const mail = r.delivered.length ? `; received ${r.delivered.join(", ")}` : "";
      log(`  ${r.machine}: ${ran}${mail}${r.pushAttempts > 1 ? ` [push retried ${r.pushAttempts - 1}x]` : ""}`);
    }
    rounds.push(results);
    const box = await inbox({ dir: machines["soda-yeti"]!, unread: true });
    if (!acknowledged && box.messages.length) {
      for (const m of box.messages) log(`  soda-yeti inbox: ${m.id} from ${m.from}: ${m.text}`);
      const acked = await ack(machines["soda-yeti"]!, [], true);
      log(`  soda-yeti: acknowledged ${acked.join(", ")}; the receipts go out with its next sync`);
      acknowledged = true;
    }
  }
  const final = await status({ dir: machines[DEMO_MACHINES[0]]! });
  return { root, hub, person, machines, rounds, final };
}
