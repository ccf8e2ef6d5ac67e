import { help } from "./options.js";
import { UsageError } from "./output.js";

export type CommandRunner = (args: string[]) => Promise<number>;

/**
 * A command with subcommands (`org create`, `apikey list`, ...). `<group> --help`, `-h` and
 * `help` print the group's usage and exit 0; a missing or unknown subcommand is a usage error.
 */
export function runGroup(
  group: string,
  usage: string,
  subcommands: Record<string, CommandRunner>,
  args: string[],
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === "help") return Promise.resolve(help(usage));
  if (sub === undefined) throw new UsageError(`missing command\n\n${usage}`);
  const run = Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined;
  if (!run) throw new UsageError(`unknown command "${group} ${sub}"\n\n${usage}`);
  return run(rest);
}
