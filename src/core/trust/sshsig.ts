// SSH signatures (OpenSSH's SSHSIG format, as `ssh-keygen -Y sign` writes
// them and git's gpg.format=ssh carries them) made in process with ed25519
// keys, and checked in process for ed25519, RSA and ECDSA keys. A sync that
// signs its commit, or verifies what other machines or people changed, would
// otherwise start ssh-keygen once per commit: about 90 ms a sync on the CI
// machine (docs/performance.md, "What machine keys cost"), and a flood of
// signed commits could take a check past git's timeout. Other key types
// (security keys, certificates), other forms, and private keys under a
// passphrase are left to ssh-keygen (through git): these functions say "not
// mine" (undefined) for them. Pure: no file, no clock; the formats are
// OpenSSH's PROTOCOL.sshsig and PROTOCOL.key, and its sshsig.c's rules (an
// RSA signature is rsa-sha2-256 or -512, its key at least 1024 bits).
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign as signData, verify as verifyData } from "node:crypto";

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

/** How a signature's blob (its reader: type name, then bytes) is checked against the data it signs; undefined: not here. */
type Check = (sig: Reader, data: Buffer) => boolean | undefined;

/** The ECDSA key types checked here: the curve's SSH and JOSE names, its field's size in bytes and its hash. */
const CURVES = new Map([
  ["ecdsa-sha2-nistp256", { name: "nistp256", crv: "P-256", size: 32, hash: "sha256" }],
  ["ecdsa-sha2-nistp384", { name: "nistp384", crv: "P-384", size: 48, hash: "sha384" }],
  ["ecdsa-sha2-nistp521", { name: "nistp521", crv: "P-521", size: 66, hash: "sha512" }],
]);

/** The signature types an RSA key's SSHSIG signature may have (OpenSSH refuses SHA-1's "ssh-rsa"), and their hashes. */
const RSA_HASHES = new Map([
  ["rsa-sha2-512", "sha512"],
  ["rsa-sha2-256", "sha256"],
]);

/** An SSH mpint's magnitude without its leading zero bytes; undefined for a negative one. */
function magnitude(b: Buffer): Buffer | undefined {
  if (b.length && b[0]! & 0x80) return undefined;
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return b.subarray(i);
}

/** `b` with zero bytes before it, `size` bytes in all. */
const padded = (b: Buffer, size: number) => Buffer.concat([Buffer.alloc(size - b.length), b]);

/** Whether a signature's blob is one `type` name and then one string, nothing after: that string, or undefined. */
function plainSignature(sig: Reader, type: string): Buffer | undefined {
  if (sig.string().toString("latin1") !== type) return undefined;
  const bytes = sig.string();
  return sig.rest === 0 ? bytes : undefined;
}

/**
 * How signatures by the public key in `p` (the SSH wire form after its type name) are checked, for the key types
 * OpenSSH signs with by default (ed25519, RSA of at least 1024 bits, ECDSA on the NIST curves); undefined for any
 * other (a security key's, a certificate) or a form ssh-keygen would not read: those are ssh-keygen's.
 */
function checkOf(type: string, p: Reader): Check | undefined {
  if (type === ED25519) {
    const raw = p.string();
    if (raw.length !== 32 || p.rest !== 0) return undefined;
    return (sig, data) => {
      const bytes = plainSignature(sig, ED25519);
      return bytes && bytes.length === 64 && verifyData(null, data, publicKeyObject(raw), bytes);
    };
  }
  if (type === "ssh-rsa") {
    const [e, n] = [magnitude(p.string()), magnitude(p.string())];
    // OpenSSH reads no RSA key under 1024 bits or over 16384.
    if (!e?.length || !n?.length || p.rest !== 0 || n.length * 8 - Math.clz32(n[0]!) + 24 < 1024 || n.length > 2048) return undefined;
    const key = createPublicKey({ key: { kty: "RSA", n: b64url(n), e: b64url(e) }, format: "jwk" });
    return (sig, data) => {
      const hash = RSA_HASHES.get(sig.string().toString("latin1"));
      const bytes = sig.string();
      if (!hash || sig.rest !== 0) return undefined;
      // A shorter signature is read with zeros before it, as OpenSSH does; a longer one is bad.
      return bytes.length <= n.length && verifyData(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, padded(bytes, n.length));
    };
  }
  const curve = CURVES.get(type);
  if (!curve || p.string().toString("latin1") !== curve.name) return undefined;
  const q = p.string();
  if (p.rest !== 0 || q.length !== 1 + 2 * curve.size || q[0] !== 4) return undefined;
  const x = q.subarray(1, 1 + curve.size);
  const key = createPublicKey({ key: { kty: "EC", crv: curve.crv, x: b64url(x), y: b64url(q.subarray(1 + curve.size)) }, format: "jwk" });
  return (sig, data) => {
    const inner = plainSignature(sig, type);
    if (!inner) return undefined;
    const rs = new Reader(inner);
    const [r, s] = [magnitude(rs.string()), magnitude(rs.string())];
    if (!r || !s || rs.rest !== 0) return undefined;
    if (r.length > curve.size || s.length > curve.size) return false;
    return verifyData(curve.hash, data, { key, dsaEncoding: "ieee-p1363" }, Buffer.concat([padded(r, curve.size), padded(s, curve.size)]));
  };
}

/**
 * An armored SSH signature checked against `message` and `namespace`, as ssh-keygen checks it (OpenSSH's sshsig.c):
 * the key that made it ("<type> <base64>") and whether it holds. Anything ssh-keygen refuses once it has read the
 * key is not good here either: a version above 1, a hash other than sha256 or sha512, bytes after the signature, a
 * signature cut short or of another form than its key's; the reserved field is read and not signed, as there.
 * Undefined when it is not an SSHSIG signature whose key coord checks here (checkOf): ssh-keygen's.
 */
export function sshVerify(armored: string, namespace: string, message: Buffer | string): { key: string; good: boolean } | undefined {
  const head = signatureHead(armored);
  let check: Check | undefined;
  try {
    check = head && checkOf(head.type, head.pub);
  } catch {
    return undefined;
  }
  if (!head || !check) return undefined;
  const { r, version, key } = head;
  try {
    const ns = r.string().toString();
    r.string(); // reserved: not part of what is signed
    const hash = r.string().toString();
    const sig = new Reader(r.string());
    if (version > 1 || r.rest !== 0 || (hash !== "sha512" && hash !== "sha256")) return { key, good: false };
    const digest = createHash(hash).update(message).digest();
    const good = check(sig, Buffer.concat([Buffer.from(MAGIC), sshString(ns), sshString(""), sshString(hash), sshString(digest)]));
    return { key, good: good === true && ns === namespace };
  } catch {
    return { key, good: false };
  }
}

/**
 * The key an armored SSHSIG signature says made it ("<type> <base64>", the form an allowed-signers line gives),
 * of any key type, with nothing checked: whether the signature holds is sshVerify's (or ssh-keygen's) to say.
 * Undefined when it is no SSHSIG signature or its key cannot be read.
 */
export function sshSignatureKey(armored: string): string | undefined {
  const head = signatureHead(armored);
  return head && /^[a-z0-9@.-]+$/.test(head.type) ? head.key : undefined;
}

/**
 * What an armored SSHSIG signature says before its namespace: its version, its key ("<type> <base64>", its type, and
 * a reader at the key's fields after the type), and a reader at the namespace. Undefined when it is none, or cut short there.
 */
function signatureHead(armored: string): { r: Reader; version: number; key: string; type: string; pub: Reader } | undefined {
  const data = unarmor("SSH SIGNATURE", armored);
  if (!data || data.subarray(0, MAGIC.length).toString("latin1") !== MAGIC) return undefined;
  try {
    const r = new Reader(data.subarray(MAGIC.length));
    const version = r.uint32();
    const blob = r.string();
    const pub = new Reader(blob);
    const type = pub.string().toString("latin1");
    return { r, version, key: `${type} ${blob.toString("base64")}`, type, pub };
  } catch {
    return undefined;
  }
}

/** Whether `text` is armored as an SSH signature, by git's own test (its start, nothing before it): git then asks ssh-keygen. */
export function isSshArmored(text: string): boolean {
  return text.startsWith("-----BEGIN SSH SIGNATURE-----");
}

/**
 * Whether `type` and `data` are a key as ssh-keygen writes it, the only form its text is compared in here: strict
 * base64 that reads back the same, whose blob names `type`, and for the types checked here, fields of their plain
 * form (an RSA key's numbers with no zero byte before them, an ed25519 key of 32 bytes, an ECDSA key of its curve).
 * Found in attack: a revoked key written otherwise (a zero byte before its modulus) is the same key to ssh-keygen,
 * and was not revoked here.
 */
export function plainKey(type: string, data: string): boolean {
  const blob = Buffer.from(data, "base64");
  if (blob.toString("base64") !== data) return false;
  try {
    const r = new Reader(blob);
    if (r.string().toString("latin1") !== type) return false;
    const minimal = (b: Buffer) => (b.length > 0 && b[0] !== 0 && !(b[0]! & 0x80) ? true : b.length > 1 && b[0] === 0 && (b[1]! & 0x80) !== 0);
    if (type === ED25519) return r.string().length === 32 && r.rest === 0;
    if (type === "ssh-rsa") return minimal(r.string()) && minimal(r.string()) && r.rest === 0;
    const curve = CURVES.get(type);
    if (curve) return r.string().toString("latin1") === curve.name && r.string().length === 1 + 2 * curve.size && r.rest === 0;
    return false;
  } catch {
    return false;
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
