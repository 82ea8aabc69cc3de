// SSH signatures (OpenSSH's SSHSIG format, as `ssh-keygen -Y sign` writes
// them and git's gpg.format=ssh carries them) made and checked in process for
// ed25519 keys. A sync that signs its commit, or verifies what other machines
// changed, would otherwise start ssh-keygen once per commit: about 90 ms a
// sync on the CI machine (docs/performance.md, "What machine keys cost").
// Other key types, and private keys under a passphrase, are left to
// ssh-keygen (through git): these functions say "not mine" (undefined) for
// them. Pure: no file, no clock; the formats are OpenSSH's PROTOCOL.sshsig
// and PROTOCOL.key.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, createHash, sign as signData, verify as verifyData } from "node:crypto";

const ED25519 = "ssh-ed25519";
const MAGIC = "SSHSIG";
const HASH = "sha512";

/** A private ed25519 key as signing needs it: the key, and its public half as an SSH key line ("ssh-ed25519 <base64>"). */
export interface SigningKey {
  key: KeyObject;
  publicKey: string;
}

/** SSH wire strings: a uint32 length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Reads SSH wire values from a buffer; every read past its end throws. */
class Reader {
  private at = 0;
  constructor(private readonly data: Buffer) {}
  uint32(): number {
    if (this.at + 4 > this.data.length) throw new Error("cut short");
    const n = this.data.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }
  bytes(n: number): Buffer {
    if (n < 0 || this.at + n > this.data.length) throw new Error("cut short");
    const out = this.data.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  string(): Buffer {
    return this.bytes(this.uint32());
  }
  get rest(): number {
    return this.data.length - this.at;
  }
}

const b64url = (b: Buffer) => b.toString("base64url");

/** The SSH wire form of an ed25519 public key (string "ssh-ed25519", string key). */
function publicBlob(raw: Buffer): Buffer {
  return Buffer.concat([sshString(ED25519), sshString(raw)]);
}

/** The 32 raw bytes of an "ssh-ed25519 <base64>" key line, or undefined for any other key. */
function ed25519Raw(line: string): Buffer | undefined {
  const [type, data] = line.trim().split(/\s+/);
  if (type !== ED25519 || !data) return undefined;
  try {
    const r = new Reader(Buffer.from(data, "base64"));
    if (r.string().toString() !== ED25519) return undefined;
    const raw = r.string();
    return raw.length === 32 && r.rest === 0 ? raw : undefined;
  } catch {
    return undefined;
  }
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64url(raw) }, format: "jwk" });
}

/** Base64 in lines of 70, between BEGIN and END lines, as OpenSSH writes armored data. */
function armor(label: string, data: Buffer): string {
  const lines = data.toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The data between BEGIN and END lines that are all of `text` (blanks around aside), in strict base64; else undefined. */
function unarmor(label: string, text: string): Buffer | undefined {
  const m = new RegExp(`^-----BEGIN ${label}-----\\r?\\n([A-Za-z0-9+/=\\s]*?)-----END ${label}-----$`).exec(text.trim());
  const b64 = m?.[1]?.replace(/\s+/g, "");
  return b64 !== undefined && /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64) ? Buffer.from(b64, "base64") : undefined;
}

/**
 * A new ed25519 key: its private half in OpenSSH's format, unencrypted (as `ssh-keygen -t ed25519 -N ""`
 * writes it, so ssh-keygen and git read it too), and its public key line with `comment`.
 */
export function newKeyPair(comment: string): { privateKey: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d!, "base64url");
  const raw = Buffer.from(jwk.x!, "base64url");
  const check = randomBytes(4);
  const secret = Buffer.concat([check, check, sshString(ED25519), sshString(raw), sshString(Buffer.concat([seed, raw])), sshString(comment)]);
  // Padded with 1, 2, 3, … to the cipher's block size (8 for "none").
  const pad = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    Buffer.from([0, 0, 0, 1]),
    sshString(publicBlob(raw)),
    sshString(Buffer.concat([secret, pad])),
  ]);
  return { privateKey: armor("OPENSSH PRIVATE KEY", body), publicKey: `${ED25519} ${publicBlob(raw).toString("base64")} ${comment}`.trim() };
}

/**
 * The signing key in an OpenSSH private key file's text, when it is an ed25519 key without a passphrase;
 * undefined for anything else (another type, a passphrase, another format): ssh-keygen signs with those.
 */
export function readSigningKey(text: string): SigningKey | undefined {
  const data = unarmor("OPENSSH PRIVATE KEY", text);
  if (!data) return undefined;
  try {
    const magic = "openssh-key-v1\0";
    if (data.subarray(0, magic.length).toString("latin1") !== magic) return undefined;
    const r = new Reader(data.subarray(magic.length));
    if (r.string().toString() !== "none" || r.string().toString() !== "none") return undefined;
    r.string(); // kdf options: empty without a passphrase
    if (r.uint32() !== 1) return undefined;
    r.string(); // the public key, again inside
    const s = new Reader(r.string());
    const check = s.uint32();
    if (s.uint32() !== check) return undefined; // the check numbers differ: a wrong passphrase's output, never a key
    if (s.string().toString() !== ED25519) return undefined;
    const raw = s.string();
    const secret = s.string();
    if (raw.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(raw)) return undefined;
    const key = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64url(secret.subarray(0, 32)), x: b64url(raw) }, format: "jwk" });
    return { key, publicKey: `${ED25519} ${publicBlob(raw).toString("base64")}` };
  } catch {
    return undefined;
  }
}

/** What SSHSIG signs: the preamble, the namespace and the message's hash (never the message itself). */
function signedData(namespace: string, message: Buffer | string): Buffer {
  const digest = createHash(HASH).update(message).digest();
  return Buffer.concat([Buffer.from(MAGIC), sshString(namespace), sshString(""), sshString(HASH), sshString(digest)]);
}

/** `message` signed by `key` for `namespace` ("git" for commits), armored as `ssh-keygen -Y sign` writes it. */
export function sshSign(key: SigningKey, namespace: string, message: Buffer | string): string {
  const raw = ed25519Raw(key.publicKey)!;
  const signature = signData(null, signedData(namespace, message), key.key);
  const version = Buffer.from([0, 0, 0, 1]);
  const blob = Buffer.concat([
    Buffer.from(MAGIC),
    version,
    sshString(publicBlob(raw)),
    sshString(namespace),
    sshString(""),
    sshString(HASH),
    sshString(Buffer.concat([sshString(ED25519), sshString(signature)])),
  ]);
  return armor("SSH SIGNATURE", blob);
}

/**
 * An armored SSH signature checked against `message` and `namespace`: the key that made it ("ssh-ed25519
 * <base64>") and whether it holds; undefined when it is not an ed25519 SSHSIG signature coord can check here
 * (ssh-keygen checks those).
 */
export function sshVerify(armored: string, namespace: string, message: Buffer | string): { key: string; good: boolean } | undefined {
  const data = unarmor("SSH SIGNATURE", armored);
  if (!data) return undefined;
  try {
    if (data.subarray(0, MAGIC.length).toString("latin1") !== MAGIC) return undefined;
    const r = new Reader(data.subarray(MAGIC.length));
    if (r.uint32() !== 1) return undefined;
    const pub = r.string();
    const p = new Reader(pub);
    if (p.string().toString() !== ED25519) return undefined;
    const raw = p.string();
    if (raw.length !== 32 || p.rest !== 0) return undefined;
    const key = `${ED25519} ${pub.toString("base64")}`;
    const ns = r.string().toString();
    const reserved = r.string();
    const hash = r.string().toString();
    const sig = new Reader(r.string());
    if (sig.string().toString() !== ED25519) return undefined;
    const bytes = sig.string();
    // Anything but the plain form ssh-keygen writes (bytes after it, a reserved field, another hash) is ssh-keygen's to judge.
    if (r.rest !== 0 || sig.rest !== 0 || reserved.length !== 0 || (hash !== "sha512" && hash !== "sha256")) return undefined;
    if (ns !== namespace || bytes.length !== 64) return { key, good: false };
    const digest = createHash(hash).update(message).digest();
    const signed = Buffer.concat([Buffer.from(MAGIC), sshString(ns), sshString(reserved), sshString(hash), sshString(digest)]);
    return { key, good: verifyData(null, signed, publicKeyObject(raw), bytes) };
  } catch {
    return undefined;
  }
}

/**
 * The key an armored SSHSIG signature says made it ("<type> <base64>", the form an allowed-signers line gives),
 * of any key type, with nothing checked: whether the signature holds is sshVerify's (or ssh-keygen's) to say.
 * Undefined when it is not an SSHSIG signature of the plain form ssh-keygen writes.
 */
export function sshSignatureKey(armored: string): string | undefined {
  const data = unarmor("SSH SIGNATURE", armored);
  if (!data || data.subarray(0, MAGIC.length).toString("latin1") !== MAGIC) return undefined;
  try {
    const r = new Reader(data.subarray(MAGIC.length));
    if (r.uint32() !== 1) return undefined;
    const pub = r.string();
    const type = new Reader(pub).string().toString("latin1");
    return /^[a-z0-9@.-]+$/.test(type) ? `${type} ${pub.toString("base64")}` : undefined;
  } catch {
    return undefined;
  }
}

/** Whether two SSH key lines name the same key (their type and data; comments aside). */
export function sameKey(a: string, b: string): boolean {
  const [ta, da] = a.trim().split(/\s+/);
  const [tb, db] = b.trim().split(/\s+/);
  return ta === tb && da !== undefined && da === db;
}

/** Whether coord checks signatures by this key in process (an ed25519 key); others are checked by ssh-keygen. */
export function checkableHere(key: string): boolean {
  return ed25519Raw(key) !== undefined;
}
