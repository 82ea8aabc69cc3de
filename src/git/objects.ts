// Git objects written by coord itself, as loose objects in the checkout's
// object directory: a blob, a tree, a commit. A publish builds one commit of
// a few files; doing it here instead of through hash-object, mktree and
// commit-tree saves four git processes per publish (and per retried push).
// The format is git's own and stable: "<type> <size>\0<body>", deflated, named
// by its SHA-1. Only for SHA-1 repositories with a plain .git directory (else
// src/git/commit.ts falls back to plumbing); a commit is signed here with a key
// coord signs with itself (src/core/trust/sshsig.ts), with any other key by git.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import type { Author } from "./hub.js";

export type ObjectType = "blob" | "tree" | "commit";

/**
 * A commit larger than this is not read into this process: its tree is asked of git, its signature is git's to check
 * (the callers ask git for what is not here). Found in attack: commits with messages of megabytes, a few hundred of
 * them on the lines a check walks, took a reclaim over a gigabyte of memory; one of 300 MB on main, a sync 650 MB.
 */
export const COMMIT_READ_MAX = 256 * 1024;

/** The id git gives an object of `type` with `body`. */
export function objectId(type: ObjectType, body: Buffer): string {
  return createHash("sha1").update(`${type} ${body.length}\0`).update(body).digest("hex");
}

/**
 * A tree object's body from entries as `git ls-tree -z` / `git mktree -z`
 * write them ("<mode> <type> <id>\t<name>"), sorted as git sorts them (by
 * name, a tree's name as if it ended in "/").
 */
export function treeBody(entries: string[]): Buffer {
  const parsed = entries.map((line) => {
    const tab = line.indexOf("\t");
    const [mode, , id] = line.slice(0, tab).split(" ") as [string, string, string];
    const name = line.slice(tab + 1);
    const isTree = mode === "040000" || mode === "40000";
    if (!/^[0-7]+$/.test(mode) || !/^[0-9a-f]{40}$/.test(id) || name === "" || name.includes("\0")) throw new Error(`not a tree entry: ${JSON.stringify(line)}`);
    return { mode: mode.replace(/^0+/, ""), id, name: Buffer.from(name, "utf8"), key: Buffer.from(isTree ? `${name}/` : name, "utf8") };
  });
  parsed.sort((a, b) => Buffer.compare(a.key, b.key));
  return Buffer.concat(parsed.flatMap((e) => [Buffer.from(`${e.mode} `), e.name, Buffer.from([0]), Buffer.from(e.id, "hex")]));
}

/**
 * An entry's mode and type as git reads them (canon_mode): any directory
 * mode is 040000, any file mode 100644 or 100755 by its owner's execute bit,
 * a link 120000, anything else a submodule's 160000. A hub may hold odd
 * modes (40755 passes fsck with a warning); editing a tree must see what git sees.
 */
function canonicalMode(raw: number): [string, "tree" | "blob" | "commit"] {
  switch (raw & 0o170000) {
    case 0o040000:
      return ["040000", "tree"];
    case 0o100000:
      return [raw & 0o100 ? "100755" : "100644", "blob"];
    case 0o120000:
      return ["120000", "blob"];
    default:
      return ["160000", "commit"];
  }
}

/**
 * The listing `git ls-tree -z` prints of a tree object's body (its entries in
 * the tree's order, each "<mode> <type> <id>\t<name>\0"); `idBytes`: 20, or
 * 32 in a SHA-256 repository.
 */
export function treeListing(body: Buffer, idBytes = 20): string {
  const lines: string[] = [];
  for (let at = 0; at < body.length; ) {
    const space = body.indexOf(32, at);
    const nul = body.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 1 + idBytes > body.length) throw new Error("not a tree object: an entry is cut short");
    const [mode, type] = canonicalMode(Number.parseInt(body.toString("latin1", at, space), 8));
    lines.push(`${mode} ${type} ${body.toString("hex", nul + 1, nul + 1 + idBytes)}\t${body.toString("utf8", space + 1, nul)}\0`);
    at = nul + 1 + idBytes;
  }
  return lines.join("");
}

/** A commit object's body, as `git commit-tree -m` writes it (the message ends with a newline). */
export function commitBody(tree: string, parent: string | undefined, author: Author, message: string, when: Date): string {
  const stamp = `${Math.floor(when.getTime() / 1000)} +0000`;
  const who = `${author.name} <${author.email}> ${stamp}`;
  return [`tree ${tree}`, ...(parent ? [`parent ${parent}`] : []), `author ${who}`, `committer ${who}`, "", message.endsWith("\n") ? message : `${message}\n`].join("\n");
}

/** Writes loose objects into `objectsDir` (.git/objects). */
export class ObjectWriter {
  constructor(readonly objectsDir: string) {}

  /**
   * Writes the object (unless it is there already) and returns its id. The
   * file calls are synchronous: a publish writes a handful of small objects,
   * and each asynchronous call costs a trip through libuv's thread pool, which
   * took 4–9 ms for six objects where these take 1–2.
   */
  async write(type: ObjectType, body: Buffer | string): Promise<string> {
    const data = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    const id = objectId(type, data);
    const dir = join(this.objectsDir, id.slice(0, 2));
    const file = join(dir, id.slice(2));
    if (existsSync(file)) {
      // Freshened, as git does: an old unreachable object this commit now uses is not pruned before the ref moves.
      const now = Date.now() / 1000;
      try {
        utimesSync(file, now, now);
      } catch {
        // read-only objects (another user's): git reads it as it is
      }
      return id;
    }
    try {
      mkdirSync(dir); // .git/objects is there: not recursive, so a read-only one says EROFS, not ENOENT
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    // Written whole under a temporary name, then renamed: a reader never sees half an object. git's prefix
    // (tmp_obj_): one a killed process left is removed by git's prune, as git's own are.
    const tmp = join(dir, `tmp_obj_coord_${process.pid}_${randomBytes(4).toString("hex")}`);
    try {
      writeFileSync(tmp, deflateSync(Buffer.concat([Buffer.from(`${type} ${data.length}\0`), data])), { mode: 0o444 });
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true }); // nothing to clean: it was not written
      throw e;
    }
    return id;
  }
}

/**
 * A commit body with `signature` (armored, ending in a newline) as its gpgsig header, placed as git's
 * commit-tree -S places it: last in the header, each line after the first begun with a space.
 */
export function signedCommitBody(body: string, signature: string): string {
  const end = body.indexOf("\n\n");
  const header = `gpgsig ${signature.trimEnd().split("\n").join("\n ")}`;
  return `${body.slice(0, end)}\n${header}${body.slice(end)}`;
}

/**
 * A commit object's signature and the payload it signs (the object without the signature's header
 * lines), as git reads them; undefined when the commit carries no gpgsig header.
 */
export function commitSignature(raw: Buffer): { payload: Buffer; signature: string } | undefined {
  const end = raw.indexOf("\n\n");
  const headerEnd = end < 0 ? raw.length : end + 1;
  const lines = raw
    .subarray(0, headerEnd)
    .toString("latin1")
    .split(/(?<=\n)/);
  const payload: string[] = [];
  const signature: string[] = [];
  // git's parse_buffer_signed_by_header: the continuation lines of the signature are its lines; another
  // hash's signature header (gpgsig-sha256) is left out of the payload too.
  let inSignature = false;
  let other = false;
  for (const line of lines) {
    if (inSignature && line.startsWith(" ")) signature.push(line.slice(1));
    else if (line.startsWith("gpgsig ")) {
      signature.push(line.slice("gpgsig ".length));
      inSignature = true;
      other = false;
    } else {
      if (line.startsWith("gpgsig")) other = true;
      else if (other && !line.startsWith(" ")) other = false;
      if (!other) payload.push(line);
      inSignature = false;
    }
  }
  if (!signature.length) return undefined;
  return { payload: Buffer.concat([Buffer.from(payload.join(""), "latin1"), raw.subarray(headerEnd)]), signature: signature.join("") };
}

/**
 * A commit object's committer time (seconds since the epoch, as `%ct`) and its message (as `%B`: everything after
 * the headers' blank line), or undefined when the body is not a commit's.
 */
export function commitTimeAndMessage(body: Buffer): { at: number; message: string } | undefined {
  const text = body.toString("utf8");
  const end = text.indexOf("\n\n");
  const headers = (end < 0 ? text : text.slice(0, end)).split("\n");
  // A header's continuation lines (a signature's) start with a space; "committer <name> <email> <time> <zone>".
  const committer = headers.find((h) => h.startsWith("committer "));
  const at = Number(/ (\d+) [+-]\d{4}$/.exec(committer ?? "")?.[1]);
  if (!Number.isFinite(at)) return undefined;
  return { at, message: end < 0 ? "" : text.slice(end + 2) };
}

/**
 * A raw commit object's parents and its author as git's `%an <%ae>` gives them; undefined when its headers are not
 * the plain ones (git's own reading is asked then).
 */
export function commitParentsAndAuthor(body: Buffer): { parents: string[]; author: string; committed: number } | undefined {
  const text = body.toString("utf8");
  const end = text.indexOf("\n\n");
  const headers = (end < 0 ? text : text.slice(0, end)).split("\n");
  const parents = headers.filter((h) => h.startsWith("parent ")).map((h) => h.slice("parent ".length));
  const author = headers.filter((h) => h.startsWith("author "));
  const committer = headers.filter((h) => h.startsWith("committer "));
  const who = author.length === 1 ? /^author ([^<>\n]*[^<>\s]) <([^<>\n]*)> \d+ [+-]\d{4}$/.exec(author[0]!) : null;
  const when = committer.length === 1 ? /^committer [^<>\n]*<[^<>\n]*> (\d{1,15}) [+-]\d{4}$/.exec(committer[0]!) : null;
  if (!who || !when || !parents.every((p) => /^[0-9a-f]{40}$/.test(p))) return undefined;
  return { parents, author: `${who[1]} <${who[2]}>`, committed: Number(when[1]) };
}
