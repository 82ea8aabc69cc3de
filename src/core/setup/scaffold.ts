// The files a new coordination repository starts with.
import { ORDERS_FILE, readModel, SCHEMA_FILE, STATUS_JSON, STATUS_MD } from "../repo/repo.js";
import { ordersJsonSchema } from "../orders/schema.js";
import { deriveStatus, renderStatusJson } from "../status/status.js";
import { renderStatusMd } from "../status/status-md.js";

export const EMPTY_ORDERS = JSON.stringify({ $schema: SCHEMA_FILE, version: 1, orders: [] }, null, 2) + "\n";

/** Path → content of a fresh hub. `readme` is the hub's README (from templates/). */
export function scaffoldFiles(readme: string): Map<string, string> {
  const files = new Map<string, string>([
    [ORDERS_FILE, EMPTY_ORDERS],
    [SCHEMA_FILE, JSON.stringify(ordersJsonSchema(), null, 2) + "\n"],
    ["README.md", readme],
  ]);
  const status = deriveStatus(readModel(files));
  files.set(STATUS_JSON, renderStatusJson(status));
  files.set(STATUS_MD, renderStatusMd(status));
  return files;
}
