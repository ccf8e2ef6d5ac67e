/**
 * Runs the CLI once per case in this one process, with stdout and stderr captured per case, and
 * prints the results as one JSON array: the usage tests' many cases in a single child process
 * instead of one each. Reads the cases (arrays of arguments) as JSON from argv[2].
 */
import { runCli } from "../../src/cli/index.js";

const cases = JSON.parse(process.argv[2] ?? "[]") as string[][];
const results: { code: number; stdout: string; stderr: string }[] = [];
const out = process.stdout.write.bind(process.stdout);
const err = process.stderr.write.bind(process.stderr);
for (const args of cases) {
  let stdout = "";
  let stderr = "";
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await runCli(args);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  results.push({ code, stdout, stderr });
}
out(JSON.stringify(results));
