// What of a task's output may reach the repository: the last lines, with
// secrets replaced. Pure; the full log stays in the local state.

const TOKEN_SHAPES: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, // AWS access key ids
  /\b(sk|rk)-[A-Za-z0-9_-]{20,}\b/g, // API keys of the sk-… shape
  /\bxox[baprs]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /(\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /(aws_secret_access_key\s*[=:]\s*)\S+/gi,
];

/** Replaces known token shapes and the given secret values with [REDACTED]. */
export function redact(text: string, secrets: string[] = []): string {
  let out = text;
  for (const s of secrets.filter((v) => v.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(s).join("[REDACTED]");
  for (const re of TOKEN_SHAPES) out = out.replace(re, (_m, prefix?: string) => (prefix && /^(Bearer\s+|aws_secret)/i.test(prefix) ? `${prefix}[REDACTED]` : "[REDACTED]"));
  return out;
}

/** The last `lines` lines of `text`, at most `maxChars` characters (whole code points), redacted. */
export function outputTail(text: string, lines: number, maxChars = 4000, secrets: string[] = []): string {
  if (lines <= 0) return "";
  // Terminal escapes and control characters go first, so they cannot hide a token from redaction.
  const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r\n/g, "\n").replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "");
  const tail = redact(plain, secrets).replace(/\n+$/, "").split("\n").slice(-lines).join("\n");
  const chars = Array.from(tail);
  return chars.length > maxChars ? "…" + chars.slice(chars.length - maxChars + 1).join("") : tail;
}
