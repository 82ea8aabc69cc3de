// Rewrites the field tables of the docs (orders in docs/protocol.md, services
// in docs/services.md, on-call settings in docs/agents.md) from the schemas (src/core/orders/field-words.ts,
// src/core/oncall/settings.ts), between
// their <!-- …:start --> and <!-- …:end --> markers. test/core/orders/field-words.test.ts
// fails until they match. Run: npm run docs:fields
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FIELD_TABLES, withTable } from "../dist/core/orders/field-words.js";
import { onCallFieldsTable } from "../dist/core/oncall/settings.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tables = [...FIELD_TABLES, { file: "docs/agents.md", marker: "on-call-fields", table: onCallFieldsTable }];
for (const { file, marker, table } of tables) {
  const path = join(root, file);
  const text = readFileSync(path, "utf8");
  const fresh = withTable(text, marker, table());
  if (fresh === undefined) {
    console.error(`${file} has no <!-- ${marker}:start --> and <!-- ${marker}:end --> markers; put them where the table goes`);
    process.exitCode = 1;
  } else if (fresh !== text) {
    writeFileSync(path, fresh);
    console.log(`${file}: the table of ${marker} refreshed`);
  } else console.log(`${file}: the table of ${marker} is up to date`);
}
