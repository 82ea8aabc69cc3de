// Files shipped in templates/, read at run time (the package includes the folder).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package.js";

export const TEMPLATES_DIR = join(PACKAGE_ROOT, "templates") + "/";

export async function template(name: string): Promise<string> {
  return readFile(TEMPLATES_DIR + name, "utf8");
}
