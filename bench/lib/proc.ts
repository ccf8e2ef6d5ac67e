import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second for /proc CPU times; 100 on every Linux this runs on, but asked anyway. */
export const CLOCK_TICKS = (() => {
  try {
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** User and kernel CPU seconds of a whole process (every thread); undefined once it has gone. */
export function processCpuTimes(pid: number): { user: number; system: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

export function processCpuSeconds(pid: number): number | undefined {
  const times = processCpuTimes(pid);
  return times && times.user + times.system;
}

/** Resident set size in bytes (VmRSS), or its peak since the process started (VmHWM). */
export function processRssBytes(pid: number, which: "VmRSS" | "VmHWM" = "VmRSS"): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${which}:\\s+(\\d+)\\s+kB`, "m").exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine spent busy since boot, every core added up. */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS
  );
}

export function loadAverage(): number[] {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

/**
 * The CPU of named processes and of the machine at one instant. Groups hold several pids
 * (PostgreSQL backends come and go), each read separately so that a backend that appears
 * between two snapshots is counted from zero.
 */
export interface CpuSnapshot {
  at: number;
  machine: number;
  groups: Record<string, Map<number, { user: number; system: number }>>;
}

export function snapshotCpu(groups: Record<string, readonly number[]>): CpuSnapshot {
  const out: CpuSnapshot["groups"] = {};
  for (const [name, pids] of Object.entries(groups)) {
    const values = new Map<number, { user: number; system: number }>();
    for (const pid of pids) {
      const times = processCpuTimes(pid);
      if (times) values.set(pid, times);
    }
    out[name] = values;
  }
  return { at: performance.now(), machine: machineBusySeconds(), groups: out };
}

export interface CpuDelta {
  wallSeconds: number;
  /** CPU seconds per group over the interval, user and kernel. */
  cpu: Record<string, number>;
  /** Of which in the kernel (system calls: sockets, files). */
  kernel: Record<string, number>;
  /** Cores kept busy by everything else on the machine (other people's work), on average. */
  otherCores: number;
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuDelta {
  const cpu: Record<string, number> = {};
  const kernel: Record<string, number> = {};
  let ours = 0;
  for (const [name, values] of Object.entries(after.groups)) {
    let total = 0;
    let system = 0;
    for (const [pid, value] of values) {
      const earlier = before.groups[name]?.get(pid) ?? { user: 0, system: 0 };
      total += value.user + value.system - earlier.user - earlier.system;
      system += value.system - earlier.system;
    }
    cpu[name] = Math.max(0, total);
    kernel[name] = Math.max(0, system);
    ours += cpu[name];
  }
  const wallSeconds = (after.at - before.at) / 1000;
  const otherCores = wallSeconds > 0 ? Math.max(0, (after.machine - before.machine - ours) / wallSeconds) : 0;
  return { wallSeconds, cpu, kernel, otherCores };
}

/** The processes whose parent is `pid` (PostgreSQL's backends under its postmaster), from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return children;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Field 4, the parent's pid, comes right after the state that follows the last ")".
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return children;
}
