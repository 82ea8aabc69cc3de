// Types of scripts/on-call-standins.mjs (stand-in agent CLIs that keep sessions as the real ones do).
/** Writes the stand-ins `claude` and `codex` into `bin`, keeping their sessions and calls under `home` (STANDIN_HOME). */
export function writeStandIns(bin: string, home: string): Promise<void>;

export interface StandInCall {
  cli: string;
  args: string[];
  cwd: string;
  pid: number;
  chain?: string;
  prompt: string;
}

/** The calls the stand-ins recorded under `home`, in order. */
export function standInCalls(home: string): Promise<StandInCall[]>;
