// Whether a machine's commits can show "Verified" on GitHub, and how a person makes them so. GitHub shows a commit
// Verified when its SSH signature's key is a *signing* key of the account whose verified email is the commit's
// committer email (an account may hold any number of signing keys). coord signs every machine commit with the
// machine's key (git's SSH format); the committer email is `<machine>@coord.invalid` unless `trust.commitEmail` names
// one. GitHub never re-checks a commit after a key is removed from the account, so coord's own roster of pinned keys
// stays the authority between machines; Verified is for people reading the hub on GitHub. Pure.

/** The committer email of a machine's commits when none is set: never an address anyone verifies. */
export const defaultCommitEmail = (machine: string) => `${machine}@coord.invalid`;

/**
 * An email as a machine may commit as it: letters, digits and `._%+-` before one @, letters, digits, `.` and `-`
 * after it, at most 254 characters. Nothing an allowed signers file reads as a pattern or a list (`* ? ! , "`).
 */
export const COMMIT_EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** Whether `email` is at an .invalid domain (any case): nobody's, as coord's default `<machine>@coord.invalid` is. */
const atInvalid = (email: string) => /\.invalid$/i.test(email);

export function commitEmailProblem(email: string): string | undefined {
  if (email.length > 254) return "is longer than 254 characters";
  if (!COMMIT_EMAIL.test(email)) return "is not an email address (name@host: letters, digits and ._%+- before the @, letters, digits, . and - after it)";
  if (atInvalid(email)) return "is at an .invalid domain, nobody's (coord's own default); give an email your GitHub account verified";
  return undefined;
}

export type VerifiedVerdict = { can: true; email: string; detail: string } | { can: false; detail: string; fix: string };

/** Whether this machine's commits can show Verified on GitHub, from what it signs with and commits as. */
export function verifiedVerdict(o: { machine: string; publicKey?: string | undefined; commitEmail?: string | undefined }): VerifiedVerdict {
  if (!o.publicKey) return { can: false, detail: "its commits are not signed", fix: "coord trust key, then coord trust github --email <your GitHub email>" };
  if (!o.commitEmail || o.commitEmail.endsWith(".invalid"))
    return {
      can: false,
      detail: `its commits are signed, but by ${o.commitEmail ?? defaultCommitEmail(o.machine)}, which no GitHub account verifies`,
      fix: "coord trust github --email <an email your GitHub account has verified>",
    };
  return {
    can: true,
    email: o.commitEmail,
    detail: `its commits are signed and by ${o.commitEmail}: GitHub shows them Verified once this machine's key is a signing key of the account that verified ${o.commitEmail} (coord trust github prints the command)`,
  };
}

/** The command that registers `publicKey` as a signing key of the GitHub account `gh` is logged in to, for `machine`. */
export function registerCommand(machine: string, publicKey: string): string {
  const key = publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
  return `gh api --method POST /user/ssh_signing_keys -f key='${key}' -f title='coord ${machine}'`;
}

/** A machine as an allowed signers file names it: its key (as this machine trusts it) and the email its commits are by. */
export interface FleetSigner {
  machine: string;
  /** Its SSH public key ("ssh-ed25519 AAAA…"), or undefined when its commits are not signed. */
  key?: string | undefined;
  /** The email its commits are by (absent: <machine>@coord.invalid). */
  email?: string | undefined;
}

/**
 * The fleet's allowed signers, as git reads them (gpg.ssh.allowedSignersFile: `<principal> namespaces="git" <key>`),
 * so that `git log --show-signature` and `git verify-commit` say Good for each machine's commits, by the email its
 * commits are by. A machine that signs nothing is named in a comment. Sorted by machine: the same fleet, the same text.
 */
export function fleetSignersText(signers: readonly FleetSigner[]): string {
  const lines = ["# The fleet's machines and the keys their commits are signed with, as this machine trusts them (coord trust signers)."];
  const claims = new Map<string, string[]>();
  for (const s of signers) if (s.key && s.email) claims.set(s.email.toLowerCase(), [...(claims.get(s.email.toLowerCase()) ?? []), s.machine]);
  for (const [email, machines] of claims)
    if (machines.length > 1) lines.push(`# ${email}: machines ${machines.sort().join(", ")} each say they commit as it (each machine's word)`);
  for (const s of [...signers].sort((a, b) => (a.machine < b.machine ? -1 : a.machine > b.machine ? 1 : 0))) {
    if (!s.key) {
      lines.push(`# ${s.machine}: its commits are not signed`);
      continue;
    }
    const email = s.email ?? defaultCommitEmail(s.machine);
    // An .invalid address other than its own default (another machine's, in any case) is never this one's.
    if (email !== defaultCommitEmail(s.machine) && (atInvalid(email.replace(/\.+$/, "")) || commitEmailProblem(email))) {
      lines.push(`# ${s.machine}: it says it commits as ${JSON.stringify(email)}, no address of its own; left out`);
      continue;
    }
    const key = s.key.trim().split(/\s+/).slice(0, 2).join(" ");
    lines.push(`${email} namespaces="git" ${key} coord ${s.machine}`);
  }
  return `${lines.join("\n")}\n`;
}
