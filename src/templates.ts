// Files shipped in templates/, read at run time (the package includes the folder).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export const TEMPLATES_DIR = fileURLToPath(new URL("../templates/", import.meta.url));

export async function template(name: string): Promise<string> {
  return readFile(TEMPLATES_DIR + name, "utf8");
}
