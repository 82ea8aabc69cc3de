// Who may use coord ui's local page: a request to the server bound to
// 127.0.0.1 answers only when it names the server by its own address (a page
// of another site that a rebinding DNS points at 127.0.0.1 sends its own Host
// name), carries the token printed at start (another local user cannot guess
// it), and, for a change (POST), comes from the page itself (Origin).
import { createHash, timingSafeEqual } from "node:crypto";

/** The names the page may be reached by: the bound address, and localhost. */
export const UI_HOSTS = ["127.0.0.1", "localhost"] as const;

export interface UiRequest {
  method: string;
  /** The Host header as sent (undefined when missing). */
  host?: string;
  /** The Origin header as sent (undefined when missing). */
  origin?: string;
  /** The `token` query parameter (undefined or null when missing). */
  token?: string | null;
}

export interface UiAccess {
  /** The port the server listens on. */
  port: number;
  token: string;
}

/** Whether `given` is the token: compared in constant time (both hashed to the same length first). */
export function sameToken(given: string | null | undefined, token: string): boolean {
  if (typeof given !== "string" || token === "") return false;
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** Whether a Host header names this server: 127.0.0.1 or localhost, with its port. */
export function ownHost(host: string | undefined, port: number): boolean {
  return host !== undefined && UI_HOSTS.some((name) => host.toLowerCase() === `${name}:${port}`);
}

/** Whether an Origin header is the page's own (the same name the request's Host gives). */
export function ownOrigin(origin: string | undefined, host: string | undefined, port: number): boolean {
  return origin !== undefined && ownHost(host, port) && origin.toLowerCase() === `http://${host!.toLowerCase()}`;
}

/** Why the request is refused (its answer is 403), or undefined when it may go on. */
export function uiRefusal(req: UiRequest, access: UiAccess): string | undefined {
  if (!ownHost(req.host, access.port)) return `the page answers only to Host 127.0.0.1:${access.port} or localhost:${access.port}`;
  if (!sameToken(req.token, access.token)) return "the token is missing or wrong; open the URL coord ui printed at start";
  const safe = req.method === "GET" || req.method === "HEAD";
  if (!safe && !ownOrigin(req.origin, req.host, access.port)) return "a change must come from the page itself (its Origin)";
  return undefined;
}
