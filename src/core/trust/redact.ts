// What may reach the repository or a screen: text with secrets replaced. Pure.
// Every text coord publishes (task output, reasons, errors, warnings) and every
// URL it prints goes through redact(); the full log stays in the local state.

export const REDACTED = "[REDACTED]";

/** One rule: what to find, and what it becomes (`keep` groups stay, the rest is replaced). */
interface Rule {
  name: string;
  re: RegExp;
  /** The replacement, from the match's groups; default: the whole match becomes [REDACTED]. */
  to?: (...groups: string[]) => string;
}

/** Text that names a secret in a pair: `password=…`, `"token": "…"`, `GH_TOKEN=…`, `api-key: …`. */
const SECRET_KEY = "[A-Za-z0-9_.-]{0,64}(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)";

/** The rules, most specific first. Every one is tested in test/core/trust/redact.test.ts. */
export const RULES: readonly Rule[] = [
  { name: "private key block", re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g },
  // An OpenSSH private key's body without its BEGIN/END lines ("openssh-key-v1\0" in base64), with the lines after it.
  { name: "OpenSSH private key body", re: /\bb3BlbnNzaC1rZXktdjEA(?:[A-Za-z0-9+/=]|\r?\n)*/g },
  // A URL's userinfo: any on http(s) (a token is often the user name), a user:password anywhere
  // (ssh://git@host keeps its plain user name: it is no secret). Database URLs are covered too.
  {
    name: "URL userinfo",
    re: /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s/?#@'"<>]+)@/gi,
    to: (all, scheme, user) => (user.includes(":") || /^https?:/i.test(scheme) ? `${scheme}${REDACTED}@` : all),
  },
  { name: "GitHub token", re: /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g },
  { name: "GitHub fine-grained token", re: /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g },
  { name: "GitLab token", re: /\bgl(?:pat|dt|ptt|rt|cbt|oas)-[A-Za-z0-9_-]{20,}\b/g },
  { name: "npm token", re: /\bnpm_[A-Za-z0-9]{36,}\b/g },
  { name: "Slack token", re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g },
  { name: "AWS access key id", re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  { name: "sk- API key", re: /\b(?:sk|rk)-[A-Za-z0-9_-]{20,}\b/g },
  { name: "JSON web token", re: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g },
  { name: "Bearer token", re: /(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, to: (_all, prefix) => `${prefix}${REDACTED}` },
  { name: "Basic credentials", re: /(\bAuthorization:\s*Basic\s+)[A-Za-z0-9+/=]{4,}/gi, to: (_all, prefix) => `${prefix}${REDACTED}` },
  {
    name: "secret pair",
    re: new RegExp(String.raw`(^|[^A-Za-z0-9_])(${SECRET_KEY}["']?\s*[=:]\s*["']?)([^\s"'&;,]+)`, "gim"),
    to: (all, before, key, value) => (value === REDACTED ? all : `${before}${key}${REDACTED}`),
  },
];

/**
 * Secret values shorter than this are replaced only where they stand as a
 * whole word (no letter or digit next to them): a 2-character value replaced
 * inside every word would shred the output, while standing alone it is the
 * secret showing. Longer values are replaced wherever they appear.
 */
export const SHORT_SECRET = 6;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Control characters but tab and newline, as outputTail strips them. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * The forms a secret value may take in text: as given; with CRLF as LF and
 * control characters dropped (as output is normalised); and, for a value of
 * several lines, each line (a tail cut through it shows no line of it).
 */
export function secretForms(values: string[]): string[] {
  const forms = new Set<string>();
  for (const v of values) {
    if (!v) continue;
    const plain = v.replace(/\r\n/g, "\n").replace(CONTROL, "");
    for (const f of [v, plain]) if (f.trim()) forms.add(f);
    if (plain.includes("\n")) for (const line of plain.split("\n")) if (line.trim()) forms.add(line.trim());
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** `text` with what one rule finds replaced. */
function applyRule(text: string, rule: Rule): string {
  return text.replace(rule.re, (...args: unknown[]) => {
    if (!rule.to) return REDACTED;
    // The match and its groups come before the offset (a number).
    const groups = args
      .slice(
        0,
        args.findIndex((a) => typeof a === "number"),
      )
      .map((a) => (typeof a === "string" ? a : ""));
    return rule.to(...groups);
  });
}

/** Replaces the given secret values and every known secret shape with [REDACTED]. */
export function redact(text: string, secrets: string[] = []): string {
  let out = redactValues(text, secrets);
  for (const rule of RULES) out = applyRule(out, rule);
  return out;
}

/** The shortest head of a secret that a text cut short may end with and still be redacted (shorter: too many words match). */
const MIN_CUT_HEAD = 6;

/**
 * redact for a text that was cut short (a step clipped to its length, "…" at its end): a secret that began before the
 * cut left only its head, which no rule knows; a head of at least MIN_CUT_HEAD characters at the end is redacted too.
 */
export function redactClipped(text: string, secrets: string[] = []): string {
  const out = redact(text, secrets);
  const cut = out.endsWith("…") ? out.slice(0, -1) : out;
  for (const secret of secrets) {
    for (let k = Math.min(secret.length - 1, cut.length); k >= MIN_CUT_HEAD; k--) {
      if (cut.endsWith(secret.slice(0, k))) return `${cut.slice(0, cut.length - k)}[REDACTED]${out.endsWith("…") ? "…" : ""}`;
    }
  }
  return out;
}

/**
 * Replaces only the given secret values (each of their forms, and any piece of a long base64 body such as a private
 * key's) and an OpenSSH private key's body: what a person's own message may not publish either.
 */
export function redactKeys(text: string, secrets: string[]): string {
  return applyRule(redactValues(text, secrets), RULES.find((r) => r.name === "OpenSSH private key body")!);
}

function redactValues(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secretForms(secrets)) {
    if (s.length >= SHORT_SECRET) out = out.split(s).join(REDACTED);
    else out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(s)}(?![\\p{L}\\p{N}])`, "gu"), REDACTED);
  }
  return redactTokenPieces(redactPieces(out, base64Bodies(secrets)), tokenBodies(secrets));
}

/** A secret of one token's alphabet at least this long (an agent login: `sk-ant-oat01-…`, an API key): its pieces are redacted too. */
const TOKEN_BODY = 40;
const TOKEN_CHARS = "A-Za-z0-9._~+/=-";

/** The secrets that are one long token (no space, no line break): a piece of one, cut out and sent apart, is it showing. */
export function tokenBodies(secrets: readonly string[]): string[] {
  return secrets.filter((s) => s.length >= TOKEN_BODY && new RegExp(`^[${TOKEN_CHARS}]+$`).test(s));
}

/** `text` with every run of token characters that holds a piece (PIECE characters) of one of `tokens` replaced. */
function redactTokenPieces(text: string, tokens: readonly string[]): string {
  if (tokens.length === 0) return text;
  const pieces = new Set<string>();
  for (const t of tokens) for (let i = 0; i + PIECE <= t.length; i++) pieces.add(t.slice(i, i + PIECE));
  return text.replace(new RegExp(`[${TOKEN_CHARS}]{${PIECE},}`, "g"), (run) => {
    for (let i = 0; i + PIECE <= run.length; i++) if (pieces.has(run.slice(i, i + PIECE))) return REDACTED;
    return run;
  });
}

/** A run of base64 this long that is a piece of a secret's base64 body is that secret showing (a key's body, cut or wrapped anew). */
export const PIECE = 24;
/** A secret whose body (its lines but PEM armour, joined) is base64 at least this long: its pieces are redacted too. */
const BASE64_BODY = 64;

/** The base64 bodies of the secrets that have one (a private key file: its lines between BEGIN and END, joined). */
export function base64Bodies(secrets: readonly string[]): string[] {
  const bodies: string[] = [];
  for (const s of secrets) {
    const body = s
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("-----"))
      .join("");
    if (body.length >= BASE64_BODY && /^[A-Za-z0-9+/]+={0,2}$/.test(body)) bodies.push(body.replace(/=+$/, ""));
  }
  return bodies;
}

/**
 * The base64 pieces of an OpenSSH private key body's public key blob, at each of the three alignments its bytes can
 * have in other base64: public (the machine's .pub line, a key given to pin), never a piece of the secret.
 */
function publicPieces(body: string): Set<string> {
  const out = new Set<string>();
  const buf = Buffer.from(body, "base64");
  const magic = "openssh-key-v1\0";
  if (buf.subarray(0, magic.length).toString("latin1") !== magic) return out;
  let at = magic.length;
  const field = (): Buffer | undefined => {
    if (at + 4 > buf.length) return undefined;
    const n = buf.readUInt32BE(at);
    if (at + 4 + n > buf.length) return undefined;
    const v = buf.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    return v;
  };
  field(); // cipher
  field(); // kdf
  field(); // kdf options
  at += 4; // the number of keys
  const blob = field();
  if (!blob) return out;
  for (let shift = 0; shift < 3; shift++) {
    const bytes = blob.subarray(shift);
    const b64 = bytes.toString("base64").replace(/=+$/, "");
    // Whole groups of 3 bytes end on a whole character; else the last one depends on the byte after the blob.
    const end = bytes.length % 3 === 0 ? b64.length : b64.length - 1;
    for (let i = 0; i + PIECE <= end; i++) out.add(b64.slice(i, i + PIECE));
  }
  return out;
}

/** `text` with every run of base64 that holds a piece (PIECE characters) of one of `bodies` replaced; a piece of a key's public part is no secret. */
function redactPieces(text: string, bodies: readonly string[]): string {
  if (bodies.length === 0) return text;
  const pieces = new Set<string>();
  for (const b of bodies) {
    const open = publicPieces(b);
    for (let i = 0; i + PIECE <= b.length; i++) {
      const piece = b.slice(i, i + PIECE);
      if (!open.has(piece)) pieces.add(piece);
    }
  }
  return text.replace(new RegExp(`[A-Za-z0-9+/]{${PIECE},}={0,2}`, "g"), (run) => {
    for (let i = 0; i + PIECE <= run.length; i++) if (pieces.has(run.slice(i, i + PIECE))) return REDACTED;
    return run;
  });
}

/** The name of the first rule that would redact something in `text` ("GitHub token", "secret pair"…), or undefined: what looks like a secret. */
export function secretShape(text: string): string | undefined {
  return RULES.find((rule) => applyRule(text, rule) !== text)?.name;
}

/** The last `lines` lines of `text`, at most `maxChars` characters (whole code points), redacted. */
export function outputTail(text: string, lines: number, maxChars = 4000, secrets: string[] = []): string {
  if (lines <= 0) return "";
  // Terminal escapes and control characters go first, so they cannot hide a token from redaction.
  const plain = text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "")
    .replace(/\r\n/g, "\n")
    .replace(CONTROL, "");
  const tail = redact(plain, secrets).replace(/\n+$/, "").split("\n").slice(-lines).join("\n");
  const chars = Array.from(tail);
  return chars.length > maxChars ? "…" + chars.slice(chars.length - maxChars + 1).join("") : tail;
}
