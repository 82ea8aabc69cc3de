// coord hub create: a bare repository, scaffolded, ready for machines to join;
// coord hub upgrade: a hub of an older coord moved to two branches by a person.
import { mkdir, readdir, stat } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { scaffoldFiles } from "../core/setup/scaffold.js";
import { MACHINES_BRANCH, roleOf } from "../core/trust/ownership.js";
import { CoordError, EXIT } from "../errors.js";
import { Repo } from "../git/git.js";
import { splitTip } from "../git/hub.js";
import { initBare, setBranch } from "../git/local.js";
import { template } from "../templates.js";
import { PUSH_BUDGET_MS } from "../sync/cas.js";
import { type UpgradeOutcome, upgradeHub } from "../sync/upgrade.js";
import { openClone, personAuthor } from "../sync/clone.js";

export const HUB_AUTHOR = { name: "coord hub", email: "hub@coord.invalid" };

/**
 * The scaffold as root commits in the repository `repo` (their objects only; no ref moved): the people's
 * files (ORDERS.json, its schema, the README) for the hub's branch, and the first STATUS files for the
 * machines' branch.
 */
export async function scaffoldCommits(repo: Repo): Promise<{ people: string; machines: string }> {
  const files = scaffoldFiles(await template("hub-README.md"));
  const of = (role: string) => new Map([...files].filter(([path]) => roleOf(path) === role));
  const [people, machines] = await Promise.all([
    repo.commitFiles(undefined, of("people"), HUB_AUTHOR, "coord: create the coordination hub"),
    repo.commitFiles(undefined, of("machines"), HUB_AUTHOR, "coord: the machines' branch (STATUS.md, then every machine's files)"),
  ]);
  return { people, machines };
}

export async function hubCreate(path: string, branch = "main"): Promise<{ path: string; commit: string }> {
  if (branch === MACHINES_BRANCH) throw new CoordError(`--branch ${branch} is the machines' own branch; name the people's branch something else (main)`, EXIT.USAGE);
  const dir = resolve(path);
  const kind = await stat(dir).catch(() => undefined);
  if (kind && !kind.isDirectory()) throw new CoordError(`${dir} already exists and is a file; choose a new path`, EXIT.USAGE);
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length > 0) throw new CoordError(`${dir} already exists and is not empty; choose a new path`, EXIT.USAGE);
  // The parent recursively, the hub itself not: Node's recursive mkdir loops for ever where the
  // kernel answers ENOENT for an existing parent (/proc).
  const parent = await stat(dirname(dir)).catch(() => undefined);
  if (parent && !parent.isDirectory()) throw new CoordError(`${dirname(dir)} is a file, not a directory; choose another path for the hub`, EXIT.USAGE);
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EEXIST") throw e;
  });
  await initBare(dir, branch);
  const scratch = await mkdtemp(join(tmpdir(), "coord-hub-"));
  try {
    const { people, machines } = await scaffoldCommits(new Repo(dir, scratch));
    await setBranch(dir, MACHINES_BRANCH, machines);
    await setBranch(dir, branch, people);
    return { path: dir, commit: people };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * coord hub upgrade: moves a hub of the old layout (machines' files on the people's branch) to two branches,
 * as the clone's git user, in one atomic push (src/sync/upgrade.ts); a hub already upgraded is left alone.
 * For a hub whose people's branch machines may not push (the first sync of a new coord does it otherwise).
 */
export async function hubUpgrade(opts: {
  dir: string;
  log?: (line: string) => void;
}): Promise<{ outcome: UpgradeOutcome; people?: string; machines?: string; warnings: string[] }> {
  const dir = resolve(opts.dir);
  const author = await personAuthor(dir, "coord hub upgrade makes the upgrade commit as you");
  const scratch = await mkdtemp(join(tmpdir(), "coord-upgrade-"));
  try {
    const { repo } = await openClone(dir, scratch);
    const { tip, outcome } = await upgradeHub(repo, { author, now: () => new Date(), log: opts.log ?? (() => {}), budgetMs: PUSH_BUDGET_MS, branch: repo.branch });
    if (tip === undefined) throw new CoordError(`the remote has no branch ${repo.branch}; is ${dir} a clone of a coord hub?`, EXIT.USAGE);
    const t = splitTip(tip);
    // The clone's work tree is the people's branch: brought up to it when that loses nothing.
    const warning = outcome === "upgraded" ? await repo.fastForward(tip) : undefined;
    return { outcome, ...(t ? { people: t.people } : {}), ...(t?.machines ? { machines: t.machines } : {}), warnings: warning ? [warning] : [] };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
