// Every error that reaches the top becomes one sentence and an exit code: what
// failed, where, and what to do. A stack trace only with COORD_DEBUG=1.
import { SANDBOXED_ENV } from "./core/agents/sandbox.js";
import { sanitizeText } from "./core/files/shown.js";
import { CoordError, EXIT, type ExitCode } from "./errors.js";
import { redact } from "./core/trust/redact.js";

/** What a filesystem or process error code means to a person, and what to do about it. */
const ERRNO = new Map<string, { what: string; todo: string }>(
  Object.entries({
    EACCES: { what: "permission denied", todo: "check its permissions, or choose a path you can write" },
    EPERM: { what: "operation not permitted", todo: "check its permissions and owner" },
    ENOENT: { what: "no such file or directory", todo: "check the path" },
    ENOTDIR: { what: "a part of the path is a file, not a directory", todo: "check the path" },
    EISDIR: { what: "it is a directory", todo: "give a file's path" },
    EEXIST: { what: "it already exists", todo: "choose another path or remove it" },
    ENOSPC: { what: "no space left on the device", todo: "free some space and run again" },
    EDQUOT: { what: "the disk quota is exceeded", todo: "free some space and run again" },
    EROFS: { what: "the file system is read-only", todo: "choose a writable path" },
    EMFILE: { what: "too many open files", todo: "raise the limit (ulimit -n) or stop other programs" },
    ENFILE: { what: "too many open files on the system", todo: "stop other programs and run again" },
    ENAMETOOLONG: { what: "the name is too long", todo: "choose a shorter path" },
    ELOOP: { what: "too many symbolic links", todo: "check the path's symbolic links" },
    EIO: { what: "an input/output error (the disk may be failing)", todo: "check the disk" },
    ENOMEM: { what: "out of memory", todo: "free some memory and run again" },
    EBUSY: { what: "the resource is busy", todo: "run again in a moment" },
  }),
);

/** Codes that say a path is wrong: a usage mistake when a person gave the path, else a file in a state coord did not expect. */
const PATH_CODES = new Set(["ENOENT", "ENOTDIR", "EISDIR", "EEXIST"]);

/** What to do when one of PATH_CODES comes from a path of coord's own: what is there is in the way, or was for a moment (a race). */
const OWN_PATH_TODO: Record<string, string> = {
  ENOENT: "it was removed meanwhile, or never made; run again",
  ENOTDIR: "a file stands where coord keeps a directory, or stood there a moment; run again, and if it persists move that file aside",
  EISDIR: "a directory stands where coord keeps a file, or stood there a moment; run again, and if it persists move that directory aside",
  EEXIST: "run again; if it persists, move aside what is at that path",
};

/** What coord was doing when an errno error came from a path of its own choosing (ownFileError). Shared by every copy of this module. */
const DOING = Symbol.for("coord.failure.doing");

type Annotated = NodeJS.ErrnoException & { [DOING]?: string };

/**
 * An errno error that came from a path coord chose itself (its local state, git's files in the checkout), with
 * what coord was doing and the path: Node names no path for some (a read that meets a directory says only
 * "read"). Such an error is never a usage mistake, whatever its code: it is the file's state, or a race with
 * another process, and describeFailure says it with exit 1. Anything but an errno error is returned as it is;
 * what an inner call said first is kept.
 */
export function ownFileError(e: unknown, doing: string, path?: string): unknown {
  if (!(e instanceof Error) || e instanceof CoordError || typeof (e as NodeJS.ErrnoException).code !== "string") return e;
  const err = e as Annotated;
  if (path !== undefined) err.path ??= path;
  err[DOING] ??= doing;
  return err;
}

/**
 * An errno error from under a step of coord's own (a sync: every path it touches is its own, none a person gave)
 * as a CoordError of exit 1 with describeFailure's sentence, `doing` first unless an inner call said what it was
 * doing; anything else as it is.
 */
export function ownFailure(e: unknown, doing: string): unknown {
  const err = ownFileError(e, doing);
  if (!(err instanceof Error) || err instanceof CoordError || typeof (err as NodeJS.ErrnoException).code !== "string") return err;
  return new CoordError(describeFailure(err).message, EXIT.FAILURE);
}

/** Inside an agent's sandbox (core/agents/sandbox.ts SANDBOXED_ENV) coord's state is read-only: what to do instead. */
const IN_SANDBOX_TODO =
  "this coord runs inside an agent's sandbox, where coord's state is read-only to the agent: an agent on call sends, asks and replies through coord's MCP tools, which coord serves from outside";

/** The sentence and exit code for any error thrown by a command. */
export function describeFailure(e: unknown): { message: string; exitCode: ExitCode } {
  if (e instanceof CoordError) return { message: redact(e.message), exitCode: e.exitCode };
  const err = e instanceof Error ? (e as Annotated) : undefined;
  const code = typeof err?.code === "string" ? err.code : undefined;
  const known = code ? ERRNO.get(code) : undefined;
  if (err && code && known) {
    const where = err.path ? ` ${err.path}` : "";
    const op = err.syscall ? `${err.syscall}${where}` : where.trim() || "a file operation";
    const doing = err[DOING];
    if (code === "EROFS" && process.env[SANDBOXED_ENV]) return { message: redact(`${op} failed: ${known.what} (${code}); ${IN_SANDBOX_TODO}`), exitCode: EXIT.FAILURE };
    if (doing !== undefined) return { message: redact(`${doing}: ${op} failed: ${known.what} (${code}); ${OWN_PATH_TODO[code] ?? known.todo}`), exitCode: EXIT.FAILURE };
    return { message: redact(`${op} failed: ${known.what} (${code}); ${known.todo}`), exitCode: PATH_CODES.has(code) ? EXIT.USAGE : EXIT.FAILURE };
  }
  const text = err ? err.message : String(e);
  const first =
    text
      .split("\n")
      .map((l) => l.trim())
      .find(Boolean) ?? "unknown error";
  return { message: redact(`unexpected error: ${first}; run again with COORD_DEBUG=1 for details, and report it if it persists`), exitCode: EXIT.FAILURE };
}

/** The lines to print for an error: the sentence, then the stack when COORD_DEBUG=1. */
export function failureLines(e: unknown, env: NodeJS.ProcessEnv = process.env): string[] {
  // A refusal may echo what it was given (a name, a flag's value): what a person could not see, escaped.
  const lines = [`coord: ${sanitizeText(describeFailure(e).message)}`];
  if (env.COORD_DEBUG === "1" && e instanceof Error && e.stack) lines.push(redact(e.stack));
  return lines;
}
