// Git's blob id of a text, computed the way `git hash-object` does.
import { createHash } from "node:crypto";

export function gitBlobId(content: string): string {
  const bytes = Buffer.from(content, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}
