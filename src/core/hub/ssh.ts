// What coord adds to the user's transport, and what it keeps of git's errors.
// Pure: the ssh command line and the text of a failure, nothing run here.

/** The program a shell command line starts (its first word, unquoted), lowercased, without directory or .exe. */
export function programOf(command: string): string {
  const m = /^\s*(?:"([^"]*)"|'([^']*)'|(\S+))/.exec(command);
  const word = m?.[1] ?? m?.[2] ?? m?.[3] ?? "";
  return (word.split(/[\\/]/).pop() ?? "").toLowerCase().replace(/\.exe$/, "");
}

/** A path as one word of a POSIX shell command. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The user's ssh command (GIT_SSH_COMMAND, core.sshCommand, or GIT_SSH as a
 * shell word; "ssh" when none) with only what keeps it from ever prompting
 * added: `-o BatchMode=yes` for OpenSSH, `-batch` for PuTTY's plink. Their
 * keys, ports, proxies and options stay. A program coord does not know (a
 * wrapper script) is left exactly as it is.
 */
export function nonInteractiveSsh(command: string): string {
  const program = programOf(command);
  if (program === "ssh") return /\bBatchMode\b/i.test(command) ? command : `${command} -o BatchMode=yes`;
  if (program === "plink" || program === "tortoiseplink") return /(^|\s)-batch\b/.test(command) ? command : `${command} -batch`;
  return command;
}

/** Lines of ssh or git that say why a connection failed (kept; "Could not read from remote repository" alone says nothing). */
const CAUSE =
  /^ssh: |Permission denied|Host key verification failed|host key is known|Connection (refused|timed out|closed|reset)|kex_exchange_identification|No route to host|Network is unreachable|Could not resolve host|Too many authentication failures|no matching (host key|key exchange|cipher|MAC)|Bad owner or permissions|Load key |Repository not found|Authentication failed|could not read (Username|Password)/i;
/** What a git host says in capitals before closing (GitHub: "ERROR: Repository not found."). */
const HOST_ERROR = /^ERROR: /;

/** Whether git's text says the server's host key is not the one known for it (a possible man-in-the-middle). */
export function isHostKeyChange(text: string): boolean {
  return /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/i.test(text);
}

/**
 * What a failed git command says, in one line: git's fatal line and the
 * lines of ssh that say why. A changed host key comes first as an ALERT.
 */
export function gitFailureText(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (isHostKeyChange(text)) {
    const host = /Host key for (\S+) has changed/i.exec(text)?.[1];
    const offending = lines.find((l) => /^Offending .* key in /i.test(l));
    return (
      `ALERT: the remote's host key changed (possible attack: someone may be intercepting the connection); ssh refused to connect. ` +
      `Do not accept the new key until the server's owner confirms it changed; then remove the old one${offending ? ` (${offending.replace(/\.$/, "")})` : ""}: ssh-keygen -R ${host ?? "<host>"}`
    );
  }
  const fatalAt = lines.findIndex((l) => /^(fatal|error):/.test(l));
  const fatal = fatalAt >= 0 ? lines[fatalAt]!.replace(/^(fatal|error):\s*/, "") : undefined;
  const causes = lines.filter((l, i) => i !== fatalAt && (CAUSE.test(l) || HOST_ERROR.test(l))).map((l) => l.replace(/^ssh:\s*/, "").replace(/^(fatal|error|ERROR):\s*/i, ""));
  // The server's own words: its `remote:` lines (a hook's, GitHub's GH006, gitolite's DENIED), and each ref it refused, with why.
  const server = serverLines(lines).filter((l) => !causes.includes(l));
  const refused = lines.map(refusedRef).filter((r): r is string => r !== undefined);
  const said = [...causes, ...server, ...refused];
  const generic = fatal === undefined || /could not read from remote repository|failed to push some refs/i.test(fatal);
  const first = lines.find((l) => !/^(To |Done$)/.test(l));
  const parts = [...new Set([...said, ...(said.length && generic ? [] : [fatal ?? first ?? text.trim()])])];
  // One line: each part but the last loses its closing period.
  return parts.map((p, i) => (i < parts.length - 1 ? p.replace(/[.:]$/, "") : p)).join("; ");
}

/** git's progress and summary lines that come through `remote:` (not the server's words about a refusal). */
const PROGRESS =
  /^(Counting|Compressing|Enumerating|Total|Resolving|Writing|Delta|Processing|Finding|Receiving|Unpacking|Create a pull request|To create a merge request|https?:\/\/\S+$)/i;

/** What the server said on `remote:` lines, each without that prefix, a level word (error:, FATAL:) or terminal codes; at most 4. */
function serverLines(lines: string[]): string[] {
  return lines
    .filter((l) => /^remote:/.test(l))
    .map((l) =>
      l
        .replace(/^remote:\s*/, "")
        .replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")
        .trim()
        .replace(/^(error|fatal|ERROR|FATAL):\s*/, ""),
    )
    .filter((l) => l && !PROGRESS.test(l))
    .slice(0, 4);
}

/**
 * A ref the server refused, from git's push report: `! [remote rejected] main -> main (hook declined)`, or
 * with --porcelain `!<TAB>src:dst<TAB>[remote rejected] (why)`: "refs/heads/main refused by the remote (why)".
 */
function refusedRef(line: string): string | undefined {
  const m = /^!\s*(?:(\S+)\s+)?\[remote rejected\]\s*(?:(\S+) -> (\S+)\s*)?\((.+)\)\s*$/.exec(line);
  if (!m) return undefined;
  const ref = m[3] ?? m[1]?.split(":").pop() ?? "a ref";
  return `${ref} refused by the remote (${m[4]})`;
}

/**
 * Whether a failed push lost a race (someone pushed first: non-fast-forward, a stale lease, the server's
 * ref moved while it updated it), as opposed to being refused by the server (a hook, a protected branch,
 * a permission): a refusal is said, never retried as a race.
 */
export function isLostRace(text: string): boolean {
  // Each ref the server turned down, and why; an atomic push's other refs say only "atomic transaction failed": the
  // reason is the one ref's (a wake ref a hook refused is a refusal; coord's lock taken by another push, a race).
  const reasons = [...text.matchAll(/\[remote rejected\][^\n]*\(([^)\n]*)\)/gi)].map((m) => m[1]!).filter((r) => !/atomic/i.test(r));
  if (reasons.some((r) => !/failed to update ref|cannot lock ref|incorrect old value/i.test(r))) return false;
  return /non-fast-forward|fetch first|\[rejected\]|stale info|failed to update ref|cannot lock ref/i.test(text);
}

/** ssh's or git's words for a connection that never reached the server's answer (an outage, not a refusal). */
const NO_ANSWER =
  /Connection (refused|timed out|closed|reset)|kex_exchange_identification|No route to host|Network is unreachable|Could not resolve host|Operation timed out|Failed to connect|the remote end hung up unexpectedly|early EOF|did not answer|does not appear to be a git repository/i;

/**
 * Whether a failed push (not a lost race: isLostRace) was the server's answer, no: a hook, a protected
 * branch, a path or branch the key or account may not write. A connection that failed is not a refusal.
 */
export function isPushRefusal(text: string): boolean {
  if (isLostRace(text)) return false;
  if (/\[remote rejected\]|hook declined|protected branch|GH006|DENIED|not allowed to push|denied to|returned error: 403|Permission to \S+ denied/i.test(text)) return true;
  return !NO_ANSWER.test(text);
}

/**
 * Whether a failed fetch was the server's answer, no: it would not let this machine read the repository (an
 * HTTP 401 or 403, ssh's "Permission denied (publickey)", GitHub's "Repository not found" for a repository
 * the key may not see, gitolite's DENIED). The server answered: no outage. A connection that failed, or a
 * permission on this machine's own files (`.git/FETCH_HEAD: Permission denied`), is not a refusal.
 */
export function isReadRefusal(text: string): boolean {
  if (/did not answer|block timeout reached/i.test(text)) return false;
  return /returned error: 40[13]\b|Authentication failed|could not read (Username|Password)|HTTP Basic: Access denied|Repository not found|repository '[^'\n]*' not found|Permission denied \([\w,-]+\)|Permission to \S+ denied|DENIED (by|to)\b/i.test(
    text,
  );
}

/**
 * What to do about a failed fetch or push, where coord knows it from git's text: a protected branch, a
 * gitolite path rule, an ssh key the server does not know, HTTP credentials git does not have. Undefined
 * when it does not know.
 */
export function fixFor(text: string): string | undefined {
  if (/GH006|protected branch/i.test(text)) return "machines push only the branch coord: let this machine's key push it (docs/security.md, Making main writable by people only)";
  if (/DENIED by VREF\/NAME/i.test(text)) return "the server's rules do not let this machine write that path: let it write the branch coord (docs/security.md, gitolite)";
  if (/Permission denied \([^)\n]*publickey[^)\n]*\)/i.test(text))
    return "the server does not know this machine's key: add its public key to the hub as a deploy key with write access";
  if (/returned error: 401\b|Authentication failed|could not read (Username|Password)/i.test(text))
    return "git has no valid credentials for this host: store them with a credential helper (git config --global credential.helper store, or the OS keychain), never in the URL";
  return undefined;
}
