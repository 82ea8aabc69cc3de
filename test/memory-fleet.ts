// A fleet on the in-memory hub (src/git/memory-hub.ts): the same sync cycle as
// on git (syncMachine), each machine with its own client of one MemoryRemote
// and its own local state in a temp dir, all in this process. For tests of
// rules (planning, claims, messages, archiving) that need no git: they run in
// milliseconds. What only git shows (rejected pushes between processes, hooks,
// transports, daemons) stays in the *.e2e tests on real git.
import { ordersText } from "./helpers.js";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModel, type RepoModel } from "../src/core/repo/repo.js";
import { scaffoldFiles } from "../src/core/setup/scaffold.js";
import { roleOf } from "../src/core/trust/ownership.js";
import { MACHINES_BRANCH } from "../src/git/hub.js";
import { type MemoryHub, MemoryRemote } from "../src/git/memory-hub.js";
import { type MachineConfig, newConfig, saveConfig } from "../src/state/config.js";
import { makeMachineKey, type Signing, signingOf } from "../src/state/trust.js";
import type { Machine } from "../src/sync/machine.js";
import { type CycleOptions, READ_PATHS, type SyncResult, syncMachine } from "../src/sync/sync.js";
import type { StatusJson } from "../src/core/fleet/status-types.js";

const PERSON = { name: "A Person", email: "person@example.com" };

export interface MemoryFleet {
  root: string;
  remote: MemoryRemote;
  machines: Map<string, Machine>;
  /** The person's own client of the hub. */
  person: MemoryHub;
  /** A machine by name (throws for a name not in the fleet). */
  m(name: string): Machine;
  /** One sync of `name`. */
  sync(name: string, opts?: CycleOptions): Promise<SyncResult>;
  /** The person commits ORDERS.json (orders as a list, or the file's text) and pushes, retrying a lost race. */
  pushOrders(orders: unknown[] | string): Promise<void>;
  /** The person commits `text` at `path` (a file of the people's branch) and pushes, retrying a lost race. */
  personCommit(path: string, text: string, message: string): Promise<void>;
  /** The commits on the machines' branch at the hub's tip (its whole lineage). */
  machinesCommits(): number;
  /** The hub's files at its tip, and the model every machine reads from them. */
  files(): Promise<Map<string, string>>;
  model(): Promise<RepoModel>;
  /** STATUS.json at the tip, parsed (core/status/status.ts StatusJson). */
  status(): Promise<StatusJson>;
  cleanup(): Promise<void>;
}

export interface MemoryFleetOptions {
  /** Config fields for every machine (durations as the config file takes them). */
  config?: Partial<Record<keyof MachineConfig, unknown>>;
  /** Whether each machine registers (a first sync that runs nothing); default true. */
  register?: boolean;
  /** ORDERS.json's text at the start (default: no orders, and a push budget generous enough for a test's bursts). */
  orders?: string;
  /**
   * Each machine gets a key (as coord init makes it) and signs its commits; the others pin it on first sight and
   * read its files only as it signed them (trust.verifyMachines): what on call needs to start a turn.
   */
  signed?: boolean;
}

/** A fresh hub's files, the same for every fleet: rendered once (the orders' JSON Schema and STATUS are a few ms). */
let SCAFFOLD: Map<string, string> | undefined;

/** A scaffolded hub and one registered machine per name. */
export async function memoryFleet(names: string[], opts: MemoryFleetOptions = {}): Promise<MemoryFleet> {
  // The machines' local state: in the run's temp dir, on a RAM disk where there is one (vitest.config.ts).
  const root = await mkdtemp(join(tmpdir(), "coord-memory-"));
  const remote = new MemoryRemote(() => new Date());
  const person = remote.client();
  // As coord hub create makes it: the people's files on main, STATUS.* on the machines' branch.
  SCAFFOLD ??= scaffoldFiles("# hub\n");
  const scaffold = new Map(SCAFFOLD);
  scaffold.set("ORDERS.json", opts.orders ?? ordersText([])); // a test fleet's bursts: a generous push budget (helpers.ts ordersText)
  const of = (role: string) => new Map([...scaffold].filter(([path]) => roleOf(path) === role));
  await person.push(await person.commitFiles(undefined, of("people"), PERSON, "coord: create the coordination hub"), ["people"]);
  await person.push(await person.commitFiles(undefined, of("machines"), PERSON, "coord: the machines' branch"), ["machines"]);
  const machines = new Map<string, Machine>();
  for (const name of names) {
    const dir = join(root, name);
    const stateDir = join(dir, ".coord");
    await mkdir(stateDir, { recursive: true });
    let config = { ...newConfig({ name, uuid: randomUUID() }), ...opts.config } as MachineConfig;
    const hub = remote.client();
    let signing: Signing | undefined;
    if (opts.signed) {
      await makeMachineKey(join(stateDir, "machine_key"), name);
      config = { ...config, trust: { ...config.trust, signingKey: "machine_key" } };
      signing = await signingOf(config, stateDir, dir);
      if (!signing?.key) throw new Error(`machine ${name}'s key cannot sign in process: ${signing?.problem}`);
      hub.useSigningKey(signing.path, signing.key);
    }
    await saveConfig(stateDir, config);
    machines.set(name, { dir, stateDir, config, hub, ...(signing ? { signing } : {}) });
  }
  const m = (name: string) => {
    const machine = machines.get(name);
    if (!machine) throw new Error(`no machine ${name} in this fleet`);
    return machine;
  };
  const files = async () => {
    const tip = (await person.fetch())!;
    return person.readFiles(tip, READ_PATHS);
  };
  const fleet: MemoryFleet = {
    root,
    remote,
    machines,
    person,
    m,
    sync: (name, o = {}) => syncMachine(m(name), o),
    pushOrders: (orders) => fleet.personCommit("ORDERS.json", typeof orders === "string" ? orders : ordersText(orders), "orders"),
    async personCommit(path, text, message) {
      for (let attempt = 1; attempt <= 50; attempt++) {
        const tip = await person.fetch();
        if (await person.push(await person.commitFiles(tip, new Map([[path, text]]), PERSON, message), ["people"])) return;
      }
      throw new Error("the person's push lost 50 races in a row");
    },
    machinesCommits() {
      const tip = remote.tip(MACHINES_BRANCH);
      return tip === undefined ? 0 : [...remote.lineage(tip)].length;
    },
    files,
    model: async () => readModel(await files()),
    status: async () => JSON.parse((await files()).get("STATUS.json")!),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  if (opts.register !== false) {
    for (const name of names) await fleet.sync(name, { run: false });
    // A fleet as it runs: each machine synced since the last one registered, so it knows them all (a send checks its
    // recipient against the machines its last sync verified: known-fleet.json).
    for (const name of names.slice(0, -1)) await fleet.sync(name, { run: false });
  }
  return fleet;
}
