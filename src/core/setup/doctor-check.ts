// One line of `coord doctor`: what was checked, how it stands, and what to do. Apart from doctor.ts so that the
// files of its checks (doctor-channels.ts) can use it without importing doctor.ts back.
export type CheckLevel = "OK" | "WARN" | "FAIL";

export interface Check {
  name: string;
  level: CheckLevel;
  detail: string;
  /** What to do, when not OK. */
  fix?: string;
}
