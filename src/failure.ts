// Every error that reaches the top becomes one sentence and an exit code: what
// failed, where, and what to do. A stack trace only with COORD_DEBUG=1.
import { CoordError, EXIT, type ExitCode } from "./errors.js";
import { redact } from "./core/redact.js";

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

/** The sentence and exit code for any error thrown by a command. */
export function describeFailure(e: unknown): { message: string; exitCode: ExitCode } {
  if (e instanceof CoordError) return { message: redact(e.message), exitCode: e.exitCode };
  const err = e instanceof Error ? (e as NodeJS.ErrnoException) : undefined;
  const code = typeof err?.code === "string" ? err.code : undefined;
  const known = code ? ERRNO.get(code) : undefined;
  if (err && code && known) {
    const where = err.path ? ` ${err.path}` : "";
    const doing = err.syscall ? `${err.syscall}${where}` : where.trim() || "a file operation";
    return {
      message: redact(`${doing} failed: ${known.what} (${code}); ${known.todo}`),
      exitCode: code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR" || code === "EEXIST" ? EXIT.USAGE : EXIT.FAILURE,
    };
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
  const lines = [`coord: ${describeFailure(e).message}`];
  if (env.COORD_DEBUG === "1" && e instanceof Error && e.stack) lines.push(redact(e.stack));
  return lines;
}
