// The seam through which a turn of an agent on call gets coord's tools served
// from outside its sandbox (commands/turn-tools.ts serves them; the engine
// lies below the commands, so the CLI provides the server at its start:
// cli/main.ts, and test/setup.ts for tests that run engines in-process).

/** coord's tools served for one turn: where, with which token, and how to end them. */
export interface TurnTools {
  /** Where it listens: 127.0.0.1:<port>. */
  address: string;
  token: string;
  /** Stops listening and ends every connection (the turn is over). */
  close(): Promise<void>;
}

/** Serves coord's tools of checkout `dir` for the turn `env` names. */
export type ServeTurnTools = (dir: string, env: Readonly<Record<string, string>>, log: (line: string) => void) => Promise<TurnTools>;

let provided: ServeTurnTools | undefined;

/** Given once by the CLI (or a test's setup): how this process serves a turn's tools. */
export function provideTurnTools(serve: ServeTurnTools): void {
  provided = serve;
}

/** How this process serves a turn's tools, when it was given one. */
export const turnToolsServer = (): ServeTurnTools | undefined => provided;
