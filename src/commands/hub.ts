// coord hub create: a bare repository, scaffolded, ready for machines to join.
import { mkdir, readdir, stat } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { scaffoldFiles } from "../core/scaffold.js";
import { MACHINES_BRANCH, roleOf } from "../core/ownership.js";
import { CoordError, EXIT } from "../errors.js";
import { Repo } from "../git/git.js";
import { initBare, setBranch } from "../git/local.js";
import { template } from "../templates.js";

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
