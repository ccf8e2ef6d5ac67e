import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time,
 * the same by package or source file, and Gatehouse's own functions by total (inclusive) time.
 * A window (`--from-ms`, `--to-ms`, relative to the profile's start) leaves out start-up.
 *
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/<run>/gatehouse.cpuprofile
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface Row {
  name: string;
  ms: number;
  percent: number;
  /** For self time: the caller that accounts for most of it. */
  calledFrom?: string;
}

export interface ProfileSummary {
  windowMs: number;
  /** Time the process was on a CPU in the window (all samples but idle). */
  busyMs: number;
  selfTop: Row[];
  byArea: Row[];
  gatehouseInclusive: Row[];
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);
const ROOT = path.resolve(import.meta.dirname, "..");

function shortUrl(url: string): string {
  let u = url.replace(/^file:\/\//, "");
  const modules = u.lastIndexOf("/node_modules/");
  if (modules >= 0) return u.slice(modules + 1);
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length + 1);
  return u.replace(/^bench\/results\/build\//, "");
}

function frameKey(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName)) return frame.functionName;
  const name = frame.functionName || "(anonymous)";
  return frame.url ? `${name}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : `${name}  (native)`;
}

/** Where the code lives: a package, one of Gatehouse's files, Node's internals, or V8. */
function areaOf(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName)) return frame.functionName;
  const url = frame.url;
  if (!url) return "(native / V8 builtins)";
  if (url.startsWith("node:")) return "node internals";
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const [first, second] = url.slice(modules + "/node_modules/".length).split("/");
    return `pkg ${first?.startsWith("@") ? `${first}/${second}` : first}`;
  }
  return shortUrl(url);
}

function isGatehouse(frame: CallFrame): boolean {
  const u = shortUrl(frame.url);
  return u.startsWith("dist/") || u.startsWith("src/");
}

export function summarizeProfile(
  profile: CpuProfile,
  options: { fromMs?: number; toMs?: number; top?: number } = {},
): ProfileSummary {
  const top = options.top ?? 25;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const from = (options.fromMs ?? 0) * 1000;
  const to = options.toMs === undefined ? Number.POSITIVE_INFINITY : options.toMs * 1000;

  const self = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const pathKeys = new Map<number, string[]>();
  const gatehouseKeysOf = (id: number): string[] => {
    const cached = pathKeys.get(id);
    if (cached) return cached;
    const keys = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame && isGatehouse(frame)) keys.add(frameKey(frame));
    }
    const list = [...keys];
    pathKeys.set(id, list);
    return list;
  };

  // The nearest named function up the stack outside Node's internals: who asked for the work.
  const callerOf = (id: number, key: string): string | undefined => {
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || SPECIAL.has(frame.functionName)) return undefined;
      if (!frame.functionName || frame.url.startsWith("node:") || frame.url === "") continue;
      const k = frameKey(frame);
      if (k !== key) return k;
    }
    return undefined;
  };

  let t = 0;
  let windowUs = 0;
  let busyUs = 0;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const weight = deltas[i + 1] ?? 0;
    if (t < from || t > to) continue;
    windowUs += weight;
    const node = byId.get(samples[i]!);
    if (!node) continue;
    const frame = node.callFrame;
    if (frame.functionName === "(idle)") continue;
    busyUs += weight;
    const key = frameKey(frame);
    self.set(key, (self.get(key) ?? 0) + weight);
    const caller = callerOf(node.id, key);
    if (caller) {
      const byCaller = callers.get(key) ?? new Map<string, number>();
      byCaller.set(caller, (byCaller.get(caller) ?? 0) + weight);
      callers.set(key, byCaller);
    }
    const where = areaOf(frame);
    area.set(where, (area.get(where) ?? 0) + weight);
    for (const k of gatehouseKeysOf(node.id)) inclusive.set(k, (inclusive.get(k) ?? 0) + weight);
  }

  const rows = (map: Map<string, number>, n: number): Row[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: busyUs > 0 ? (us / busyUs) * 100 : 0 }));
  return {
    windowMs: windowUs / 1000,
    busyMs: busyUs / 1000,
    selfTop: rows(self, top).map((row) => {
      const byCaller = callers.get(row.name);
      if (!byCaller) return row;
      const [name] = [...byCaller.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
      return name ? { ...row, calledFrom: name } : row;
    }),
    byArea: rows(area, 15),
    gatehouseInclusive: rows(inclusive, 20),
  };
}

export function formatProfileSummary(title: string, summary: ProfileSummary): string {
  const lines = [
    `${title}: busy ${(summary.busyMs / 1000).toFixed(1)} s of a ${(summary.windowMs / 1000).toFixed(1)} s window`,
    "(V8 samples the main thread on a wall clock: busy time includes time spent preempted, which on a",
    "loaded machine lands on syscalls that wake another process, such as writev; worker and libuv",
    "threads are not sampled)",
  ];
  const table = (heading: string, rows: Row[]) => {
    lines.push("", heading);
    for (const row of rows) {
      lines.push(
        `  ${row.percent.toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.name}`,
      );
      if (row.calledFrom) lines.push(`                         <- ${row.calledFrom}`);
    }
  };
  table("Top functions by self time:", summary.selfTop);
  table("Self time by package / file:", summary.byArea);
  table("Gatehouse functions by total (inclusive) time:", summary.gatehouseInclusive);
  return lines.join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      "from-ms": { type: "string" },
      "to-ms": { type: "string" },
      top: { type: "string", default: "25" },
    },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write("usage: profile-summary.ts <file.cpuprofile> [--from-ms N] [--to-ms N] [--top N]\n");
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const summary = summarizeProfile(profile, {
    ...(values["from-ms"] ? { fromMs: Number(values["from-ms"]) } : {}),
    ...(values["to-ms"] ? { toMs: Number(values["to-ms"]) } : {}),
    top: Number(values.top),
  });
  process.stdout.write(`${formatProfileSummary(path.basename(file), summary)}\n`);
}
