// Types of scripts/bench/results-file.mjs (bench/results.md from a partial run).
export function withPartialRun(existing: string, rows: { n: string; line: string; note: string }[], stamp: { date: string; text: string; only: string }): string;
