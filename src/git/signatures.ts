// git's verdict on a commit's SSH signature (%G?, %GS), given here without
// ssh-keygen when coord can: the signers file is a plain one (each line a
// principal and its key, as coord writes pins and `coord trust allow`), the
// revoked keys if any are a plain list (as `coord trust revoke` writes it),
// and the signature is an ed25519, RSA or ECDSA one
// (src/core/trust/sshsig.ts), or any by a key the file does not list (never
// good, not checked further).
// Anything else is asked of git, which asks ssh-keygen; test/sshsig.e2e.test.ts
// holds both to the same verdicts.
import { SSH_KEY_DATA, SSH_KEY_TYPE, type SignatureStatus } from "../core/trust/trust.js";
import { isSshArmored, plainKey, sshSignatureKey, sshVerify } from "../core/trust/sshsig.js";
import { commitSignature } from "./objects.js";

const LINE = new RegExp(`^(\\S+)\\s+(${SSH_KEY_TYPE})\\s+(${SSH_KEY_DATA})(?:\\s.*)?$`);
const PLAIN_KEY_LINE = new RegExp(`^(${SSH_KEY_TYPE})[ \\t]+(${SSH_KEY_DATA})(?:[ \\t].*)?$`);

/**
 * An allowed-signers file's keys ("<type> <data>" → principal), when every line is a single plain principal
 * and its key; undefined when a line has options (namespaces=, valid-after=, cert-authority), a pattern or a
 * list of principals, or one key names two principals: ssh-keygen reads those.
 */
export function plainSigners(text: string): Map<string, string> | undefined {
  const keys = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m || /[*?!,"]/.test(m[1]!)) return undefined;
    const key = `${m[2]} ${m[3]}`;
    if (keys.has(key) && keys.get(key) !== m[1]) return undefined;
    keys.set(key, m[1]!);
  }
  return keys;
}

/** How git knows an OpenPGP or X.509 signature (gpg-interface.c's prefixes). */
const FOREIGN_SIGNATURE = /^-----BEGIN (PGP SIGNATURE|PGP MESSAGE|SIGNED MESSAGE)-----/;

/**
 * A revocation file's keys ("<type> <data>"), when every line is one key in the form ssh-keygen writes (plainKey; a
 * comment after it aside); undefined for anything else (a KRL, a key written otherwise, a line of another form,
 * which makes ssh-keygen refuse every signature): git's to read.
 */
export function plainRevoked(text: string): Set<string> | undefined {
  const keys = new Set<string>();
  for (const raw of text.split("\n")) {
    // (Only spaces, tabs and a CR around it: found in attack, ssh-keygen reads no line with a BOM or a no-break space,
    // nor a blank one with a CR in it.)
    const line = raw.replace(/^[ \t]+|[ \t\r]+$/g, "");
    if (line === "" && raw.includes("\r")) return undefined;
    if (line === "" || line.startsWith("#")) continue;
    const m = PLAIN_KEY_LINE.exec(line);
    if (!m || !plainKey(m[1]!, m[2]!)) return undefined;
    keys.add(`${m[1]} ${m[2]}`);
  }
  return keys;
}

/** What this process checks signatures against: the allowed signers' keys (plainSigners) and the revoked ones (plainRevoked). */
export interface SignersHere {
  keys: ReadonlyMap<string, string>;
  revoked: ReadonlySet<string>;
}

/**
 * A raw commit object's signature as git judges it against `signers` (plainSigners): "N" unsigned, "G" and
 * the principal for a good signature by a listed key, "U" by a key not listed (git says "B" where such a signature
 * is also bad: neither counts), "B" bad, of a form ssh-keygen refuses, or by a listed key that is `revoked`
 * (plainRevoked); undefined when the signature is one only ssh-keygen checks (a listed security key's).
 */
export function commitVerdict(
  raw: Buffer,
  signers: ReadonlyMap<string, string>,
  revoked: ReadonlySet<string> = new Set(),
): { status: SignatureStatus; signer: string } | undefined {
  const signed = commitSignature(raw);
  if (!signed) return { status: "N", signer: "" };
  if (!isSshArmored(signed.signature)) {
    // Not an SSH signature: an OpenPGP or X.509 one, whose programs git is given as `false` (verifyingConfig), is "N"
    // to git; anything else makes git fail. Found in attack: thousands of commits with a signature git cannot classify
    // ("gpgsig hello") each took a git process of their own, a sync 41 s.
    return { status: FOREIGN_SIGNATURE.test(signed.signature) ? "N" : "E", signer: "" };
  }
  // A carriage return anywhere in it is one ssh-keygen reads no armor with (found in attack: one after the BEGIN line
  // was "B" for git and good here).
  if (signed.signature.includes("\r")) return { status: "B", signer: "" };
  // A key no allowed signer holds is never good, whether or not its signature holds (git says "U" or "B"), and
  // nothing is checked for it. Found in attack: thousands of commits a pusher signed with a key of her own took
  // ssh-keygen past git's timeout on a search that reads them all (sync/trust.ts advancedOrders), and a key of her own
  // made costly to check (an RSA exponent of 3071 bits: 12 ms a signature) blocked a sync for a minute.
  const key = sshSignatureKey(signed.signature);
  if (key !== undefined && !signers.has(key)) return { status: "U", signer: "" };
  const v = sshVerify(signed.signature, "git", signed.payload);
  // An SSH signature whose key cannot even be read is one ssh-keygen refuses. Found in attack: given one (a version it
  // does not know) on a commit of over 64 KiB, ssh-keygen exited before reading it and git died of SIGPIPE, failing
  // every sync whose check met that commit.
  if (!v) return key === undefined && isSshArmored(signed.signature) ? { status: "B", signer: "" } : undefined;
  if (!v.good) return { status: "B", signer: "" };
  const principal = signers.get(v.key);
  // A listed key that is revoked: git's "B".
  if (principal !== undefined && revoked.has(v.key)) return { status: "B", signer: "" };
  return principal === undefined ? { status: "U", signer: "" } : { status: "G", signer: principal };
}
