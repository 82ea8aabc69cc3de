// Which checkout a command works on: --dir, else $COORD_DIR, else the enclosing checkout.
import { resolve } from "node:path";
import { checkoutRoot } from "../git/local.js";
import { CoordError, EXIT } from "../errors.js";

export async function resolveDir(dir: string | undefined, env = process.env, cwd = process.cwd()): Promise<string> {
  if (dir) return resolve(dir);
  if (env.COORD_DIR) return resolve(env.COORD_DIR);
  try {
    return await checkoutRoot(cwd);
  } catch {
    // Not in a checkout (git says so, or cannot tell): the user names one.
    throw new CoordError("not inside a coord checkout; pass --dir <checkout> or set COORD_DIR", EXIT.USAGE);
  }
}
