// Building a commit, never touching the checkout or its index: the parent's
// tree with some files changed, directory by directory (tree.ts). Written as
// loose objects by coord itself where it can (objects.ts: a SHA-1 checkout
// with a plain .git, signed in process with a key coord signs with), else
// through git's plumbing in a private index (hash-object, mktree,
// commit-tree, signed by git). Pushing what is built is publish.ts's.
import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseHistoryTrailer } from "../core/hub/status-history.js";
import { defaultCommitEmail } from "../core/trust/github.js";
import { readSigningKey, type SigningKey, sshSign } from "../core/trust/sshsig.js";
import type { Checkout } from "./checkout.js";
import { type Author, type CommitOptions, joinTip, roleOfChanges, splitTip } from "./hub.js";
import { rememberMark, rememberTree } from "./memo.js";
import { treeOf } from "./read.js";
import { commitBody, ObjectWriter, signedCommitBody, treeBody } from "./objects.js";
import { editTree } from "./tree.js";

/** Who a machine's commits are by (author and committer alike): `email` when the machine sets one (trust.commitEmail). */
export function machineAuthor(machine: string, email?: string): Author {
  return { name: `coord ${machine}`, email: email ?? defaultCommitEmail(machine) };
}

const authorEnv = (a: Author) => ({
  GIT_AUTHOR_NAME: a.name,
  GIT_AUTHOR_EMAIL: a.email,
  GIT_COMMITTER_NAME: a.name,
  GIT_COMMITTER_EMAIL: a.email,
});

/** A commit object's text, signed with `signer` when there is one (its SSHSIG over the unsigned text, as git signs). */
function commitText(tree: string, parent: string | undefined, author: Author, message: string, signer: SigningKey | undefined): string {
  const body = commitBody(tree, parent, author, message, new Date());
  return signer ? signedCommitBody(body, sshSign(signer, "git", body)) : body;
}

/**
 * A commit on top of `parent` (or a root commit) with `changes` applied
 * (path → new content, or null to delete), built in a private index so the
 * checkout and its index are never touched.
 */
export async function commitFiles(
  c: Checkout,
  parent: string | undefined,
  changes: Map<string, string | null>,
  author: Author,
  message: string,
  opts: CommitOptions = {},
): Promise<string> {
  const t = parent === undefined ? undefined : splitTip(parent);
  if (t) {
    const role = roleOfChanges(changes);
    const commit = await commitOn(c, role === "machines" ? t.machines : t.people, changes, author, message, opts.newRoot === true);
    // The next publish reads this commit's mark: known already, no git to ask.
    const mark = role === "machines" ? parseHistoryTrailer(message) : undefined;
    if (mark) rememberMark(commit, mark);
    return role === "machines" ? joinTip(t.people, commit) : joinTip(commit, t.machines);
  }
  return commitOn(c, parent, changes, author, message, opts.newRoot === true);
}

/** commitFiles on one commit (or a root commit; `newRoot`: a root commit of the parent's tree with the changes). */
async function commitOn(c: Checkout, parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, newRoot = false): Promise<string> {
  // Signed here when the key is one coord signs with (src/core/trust/sshsig.ts); any other key: by git, through ssh-keygen.
  const signer = c.signingKey ? await signingKeyOf(c) : undefined;
  const writer = (c.signingKey && !signer) || !parent || parent.length !== 40 ? undefined : await objectWriter(c);
  if (!writer) return commitWithPlumbing(c, parent, changes, author, message, newRoot);
  // The blobs side by side (each a file of its own); the trees after them, each after its children.
  const ids = await Promise.all([...changes].map(([, content]) => (content === null ? null : writer.write("blob", content))));
  const edits = new Map<string, string | null>([...changes.keys()].map((path, i) => [path, ids[i]!]));
  // The same directory-by-directory edit as with plumbing (src/git/tree.ts); only the trees are written here.
  const run = async (args: string[], input?: string): Promise<string> => {
    if (args[0] === "mktree") {
      const id = await writer.write("tree", treeBody((input ?? "").split("\0").filter(Boolean)));
      rememberTree(c.dir, id, input ?? "");
      return `${id}\n`;
    }
    return treeOf(c, args.at(-1)!); // ls-tree -z <base>: through the checkout's cat-file --batch
  };
  const tree = (await editTree(run, `${parent}^{tree}`, edits)) ?? (await writer.write("tree", Buffer.alloc(0)));
  return writer.write("commit", commitText(tree, newRoot ? undefined : parent, author, message, signer));
}

/** Signs this checkout's commits with the key at `path`; `key`: it read already (state/trust.ts signingOf), not read again. */
export function useSigningKey(c: Checkout, path: string, key?: SigningKey): void {
  c.signingKey = path;
  signings.set(c, { path, key: Promise.resolve(key) });
}

/** The signing key read once for each checkout (Repo): undefined when coord cannot sign with it in process (git signs then). */
const signings = new WeakMap<Checkout, { path: string; key: Promise<SigningKey | undefined> }>();

function signingKeyOf(c: Checkout): Promise<SigningKey | undefined> {
  const path = c.signingKey!;
  let signing = signings.get(c);
  if (signing?.path !== path) {
    signing = {
      path,
      key: readFile(path, "utf8").then(readSigningKey, () => undefined), // unreadable: git says why when it tries
    };
    signings.set(c, signing);
  }
  return signing.key;
}

/** The writer of loose objects of each checkout (Repo) when it keeps them in .git/objects (not a worktree or submodule, whose .git is a file). */
const writers = new WeakMap<Checkout, Promise<ObjectWriter | undefined>>();

function objectWriter(c: Checkout): Promise<ObjectWriter | undefined> {
  let writer = writers.get(c);
  if (!writer) {
    const objects = join(c.dir, ".git", "objects");
    writer = lstat(objects).then(
      (st) => (st.isDirectory() ? new ObjectWriter(objects) : undefined),
      () => undefined,
    );
    writers.set(c, writer);
  }
  return writer;
}

/** commitFiles through git's plumbing: a signed commit, a root commit, or a checkout whose objects coord does not write itself. */
async function commitWithPlumbing(c: Checkout, parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, newRoot = false): Promise<string> {
  // A directory of its own per call: one process (coord watch) may build two commits at once.
  await mkdir(join(c.stateDir, "tmp"), { recursive: true });
  const scratch = await mkdtemp(join(c.stateDir, "tmp", `commit-${process.pid}-`));
  const env = { GIT_INDEX_FILE: join(scratch, "index"), ...authorEnv(author) };
  try {
    const git = c.git({ env });
    const writes = [...changes].filter((w): w is [string, string] => w[1] !== null);
    const files = await Promise.all(
      writes.map(async ([, content], i) => {
        const f = join(scratch, `blob-${i}`);
        await writeFile(f, content);
        return f;
      }),
    );
    const shas = files.length ? (await git.raw(["hash-object", "-w", "--", ...files])).trim().split("\n") : [];
    // Directory by directory (src/git/tree.ts), not through an index: one entry git would refuse to
    // check out ("..") elsewhere in the tree must not stop every machine's publish.
    const edits = new Map<string, string | null>([...changes].map(([path, content]) => [path, content === null ? null : shas[writes.findIndex(([p]) => p === path)]!]));
    const run = (args: string[], input?: string) => (input === undefined ? git : c.git({ env, input })).raw(args);
    const tree = (await editTree(run, parent ? `${parent}^{tree}` : undefined, edits)) ?? (await c.git({ env, input: "" }).raw(["mktree"])).trim();
    // Signed here with a key coord signs with (a root commit, a worktree: no fast writer), in a SHA-1 repository,
    // whose signature header is "gpgsig"; any other key, or repository, is git's to sign.
    const signer = c.signingKey && tree.length === 40 ? await signingKeyOf(c) : undefined;
    if (signer) {
      const text = commitText(tree, parent && !newRoot ? parent : undefined, author, message, signer);
      return (await c.git({ env, input: text }).raw(["hash-object", "-t", "commit", "-w", "--stdin"])).trim();
    }
    const args = ["commit-tree", tree, "-m", message];
    if (parent && !newRoot) args.push("-p", parent);
    // Signed with this machine's SSH key when it has one (trust.signingKey), for readers that check machines' commits.
    const sign = c.signingKey ? ["-c", "gpg.format=ssh", "-c", `user.signingKey=${c.signingKey}`] : [];
    if (c.signingKey) args.push("-S");
    return (await git.raw([...sign, ...args])).trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The commit the wake refs of `machines` move to with `by`'s publish of `published` (the machines' commit): a root commit
 * of the empty tree that names them and it, unsigned (it carries nothing; a wake only makes its machine look
 * sooner). Written here when coord writes this checkout's objects, else through git's plumbing.
 */
export async function wakeCommit(c: Checkout, published: string, machines: readonly string[], by: string): Promise<string> {
  const author = machineAuthor(by);
  const message = `coord: wake ${machines.join(", ")} for ${published}`;
  const writer = published.length === 40 ? await objectWriter(c) : undefined;
  if (!writer) return commitWithPlumbing(c, undefined, new Map(), author, message);
  const tree = await writer.write("tree", Buffer.alloc(0));
  return writer.write("commit", commitText(tree, undefined, author, message, undefined));
}
