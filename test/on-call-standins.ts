// Stand-in agent CLIs on call (claude, codex) that keep sessions as the real ones do: scripts/on-call-standins.mjs,
// shared with the bench.
export { type StandInCall, standInCalls, writeStandIns } from "../scripts/on-call-standins.mjs";
