/**
 * Names people give things (organizations, connections, API keys, applications, themselves).
 * Pure: unit-tested with a table of cases (test/security/smaller-rules.test.ts).
 *
 * A name is shown to other people, so it must read as what it is: no control characters, no
 * bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069, and the marks U+200E,
 * U+200F, U+061C), which can make "Acme‮atkO" display as another name, no zero-width characters
 * (U+200B–U+200D, U+2060, U+FEFF), which make two names that look alike differ, and no lone
 * surrogates, which are not text at all (SQLite would store them as invalid UTF-8).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;
const ZERO_WIDTH = /[\u200b-\u200d\u2060\ufeff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type NameProblem = "control" | "bidi" | "zero_width" | "surrogate";

export function nameProblem(name: string): NameProblem | undefined {
  if (CONTROL.test(name)) return "control";
  if (BIDI.test(name)) return "bidi";
  if (ZERO_WIDTH.test(name)) return "zero_width";
  if (LONE_SURROGATE.test(name)) return "surrogate";
  return undefined;
}

/** The field message for a name with one of those problems. */
export const NAME_CHARACTERS_MESSAGE =
  "Use letters, digits, spaces and punctuation only (no invisible or direction-changing characters).";
