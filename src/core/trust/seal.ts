// A seal on a file of coord's local state that an agent must not be able to
// write for the daemon to act on: an HMAC-SHA256 of the text under the
// machine's seal key (`.git/coord/seal_key`), which the agents' shield hides
// (core/agents/sandbox.ts). A file an agent made, or edited, inside a hole of
// the shield carries no seal that holds. Pure: the key and the text come in.
import { createHmac, timingSafeEqual } from "node:crypto";

/** What a seal is made over, besides the text: which file it is (a seal of one file never holds for another). */
export type SealedFile = "delegated-orders" | "parse-cache";

/** The seal of `text` as file `what` under `key`: 64 hex digits. */
export function sealOf(key: Uint8Array, what: SealedFile, text: string): string {
  return createHmac("sha256", key).update(`coord-seal-v1\0${what}\0`).update(text, "utf8").digest("hex");
}

/** Whether `seal` is the seal of `text` as file `what` under `key` (compared in constant time). */
export function sealHolds(key: Uint8Array, what: SealedFile, text: string, seal: unknown): boolean {
  if (typeof seal !== "string" || !/^[0-9a-f]{64}$/.test(seal)) return false;
  return timingSafeEqual(Buffer.from(sealOf(key, what, text), "hex"), Buffer.from(seal, "hex"));
}
