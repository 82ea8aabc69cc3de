// A planned change of a machine's key (coord trust rotate): the machine signs,
// with its old key, a notice naming its new one, and publishes it in its file
// beside the new key. A reader that pinned the old key checks the notice
// against that key alone (in process for ed25519 keys, else with ssh-keygen),
// and pins the new one; a new key without such a notice is an unplanned
// change, refused and said (sync/trust.ts).
// The notice is kept in .git/coord/key_notice.json until the next rotation.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as z from "zod";
import { keyNoticeText, KEY_NOTICE_NAMESPACE, SSH_PUBLIC_KEY } from "../core/trust/trust.js";
import { checkableHere, readSigningKey, sameKey, sshSign, sshVerify } from "../core/trust/sshsig.js";
import { readIfExists, writeDurably } from "./files.js";

/** What a machine publishes after a rotation: the key it had, and its signature of the notice naming the new one. */
export interface KeyNotice {
  /** The key the notice is signed with (the one readers pinned). */
  from: string;
  /** The key it names (the machine's key now). */
  key: string;
  /** ssh-keygen's armored signature of keyNoticeText(machine, from, key). */
  signature: string;
}

const noticeSchema = z.object({
  from: z.string().regex(new RegExp(`^${SSH_PUBLIC_KEY}$`)),
  key: z.string().regex(new RegExp(`^${SSH_PUBLIC_KEY}$`)),
  signature: z.string().min(1).max(4000),
});

const path = (stateDir: string) => join(stateDir, "key_notice.json");

export async function readKeyNotice(stateDir: string): Promise<KeyNotice | undefined> {
  const text = await readIfExists(path(stateDir)).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const r = noticeSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined; // unreadable: no notice is published, readers see an unplanned change and say so
  }
}

export async function saveKeyNotice(stateDir: string, notice: KeyNotice): Promise<void> {
  await writeDurably(path(stateDir), `${JSON.stringify(notice)}\n`);
}

/** Runs ssh-keygen with `input` on its stdin; resolves with its exit code and stderr (never rejects). */
function sshKeygen(args: string[], input: string): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn("ssh-keygen", args, { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => resolve({ code: null, err: e.message }));
    child.on("close", (code) => resolve({ code, err }));
    child.stdin.on("error", () => {}); // it exited before reading: its code says why
    child.stdin.end(input);
  });
}

/** Signs the notice naming `key` as `machine`'s new key, instead of `from`, with `from`'s private key at `oldKeyPath`. */
export async function signKeyNotice(oldKeyPath: string, machine: string, from: string, key: string): Promise<string> {
  // An ed25519 key without a passphrase is signed with here (src/core/trust/sshsig.ts); any other by ssh-keygen.
  const own = readSigningKey((await readIfExists(oldKeyPath).catch(() => undefined)) ?? "");
  if (own) return sshSign(own, KEY_NOTICE_NAMESPACE, keyNoticeText(machine, from, key)).trim();
  const dir = await mkdtemp(join(tmpdir(), "coord-notice-"));
  try {
    const message = join(dir, "notice");
    await writeFile(message, keyNoticeText(machine, from, key));
    const r = await sshKeygen(["-q", "-Y", "sign", "-f", oldKeyPath, "-n", KEY_NOTICE_NAMESPACE, message], "");
    const signature = await readIfExists(`${message}.sig`, "reading the key notice's signature ssh-keygen made");
    if (r.code !== 0 || !signature) throw new Error(`ssh-keygen could not sign with ${oldKeyPath}: ${r.err.trim().split("\n")[0] || `exit ${r.code}`}`);
    return signature.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether `signature` is `pinned`'s signature of the notice naming `key` as `machine`'s new key instead of `pinned`. */
export async function keyNoticeHolds(machine: string, pinned: string, key: string, signature: string): Promise<boolean> {
  const here = sshVerify(signature, KEY_NOTICE_NAMESPACE, keyNoticeText(machine, pinned, key));
  if (here) return here.good && sameKey(here.key, pinned);
  if (checkableHere(pinned)) return false; // an ed25519 key's signature is one checked here: anything else is not its
  const dir = await mkdtemp(join(tmpdir(), "coord-notice-"));
  try {
    const signers = join(dir, "signers");
    const sig = join(dir, "notice.sig");
    await writeFile(signers, `${machine} ${pinned}\n`);
    await writeFile(sig, `${signature}\n`);
    const r = await sshKeygen(["-Y", "verify", "-f", signers, "-I", machine, "-n", KEY_NOTICE_NAMESPACE, "-s", sig], keyNoticeText(machine, pinned, key));
    return r.code === 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
