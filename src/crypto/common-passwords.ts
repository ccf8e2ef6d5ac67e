/**
 * Passwords at the top of every breach corpus, as the words they are built from. A password is
 * refused when, lower-cased, with common letter-for-symbol substitutions undone and the digits
 * and punctuation around it removed, it is one of these words or a run of keyboard keys:
 * "password1234", "P@ssw0rd2024!", "Welcome123456", "qwertyuiop12", "123456789012".
 *
 * Bundled rather than a package: the maintained lists on npm are large or unmaintained, and the
 * minimum length (12) already refuses everything shorter; what gets past it is a short common
 * word padded with digits, which these bases catch. Pure: unit-tested with a table of cases.
 */
const COMMON_BASES = new Set(
  `
password passw passwd pass passwort motdepasse contrasena senha wachtwoord salasana haslo
qwerty qwertz azerty asdf zxcv letmein welcome admin administrator root toor user guest login
iloveyou loveme lovely love monkey dragon football baseball basketball soccer hockey
sunshine princess master shadow superman batman spiderman trustno michael jennifer jordan
hunter ranger buster thomas robert daniel charlie jessica ashley amanda andrew joshua matthew
abc abcd abcdef abcdefg abcdefgh iloveu secret changeme default test testing tester temp
temporary summer winter spring autumn fall monday friday january december hello hellothere
freedom whatever starwars pokemon minecraft fortnite computer internet samsung apple google
facebook linkedin microsoft windows android iphone chocolate cookie cheese pepper ginger
killer access flower purple orange banana mustang harley ferrari corvette mercedes porsche
yankees cowboys eagles lakers liverpool chelsea arsenal barcelona madrid juventus
qazwsx qweasd qweasdzxc zaq xsw zaqxsw zaqwsx asdfgh asdfghjkl zxcvbn zxcvbnm qwertyuiop
qwertyu qwer aaa abc abcabc blink myspace mypassword yourpassword nopassword pass word
company gatehouse
`
    .split(/\s+/)
    .filter(Boolean),
);

// Each substitution is undone to the letter it stands for.
const LEET: Record<string, string> = {
  "@": "a",
  "4": "a",
  "3": "e",
  "1": "i",
  "!": "i",
  "0": "o",
  $: "s",
  "5": "s",
  "7": "t",
};

/** Keyboard rows and digit runs, either way round: any stretch of 6 or more of one is refused. */
const RUNS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz"];

function isKeyRun(text: string): boolean {
  if (text.length < 6) return false;
  return RUNS.some((run) => {
    const doubled = run + run;
    const reversed = [...doubled].reverse().join("");
    return doubled.includes(text) || reversed.includes(text);
  });
}

export function isCommonPassword(password: string): boolean {
  const lowered = password.toLowerCase();
  const bare = lowered.replace(/[^a-z0-9]/g, "");
  if (isKeyRun(bare) || /^(\d)\1+$/.test(bare) || isKeyRun(bare.replace(/\d+$/, ""))) return true;
  // The word inside: digits and punctuation around it go, then substitutions are undone.
  const core = lowered.replace(/^[^a-z@$]+|[^a-z]+$/g, "");
  const word = [...core]
    .map((c) => LEET[c] ?? c)
    .join("")
    .replace(/[^a-z]/g, "");
  if (word.length === 0) return /^[\d\W_]+$/.test(lowered) && isKeyRun(lowered.replace(/\D/g, ""));
  if (COMMON_BASES.has(word)) return true;
  // A common word said twice ("passwordpassword").
  const half = word.length % 2 === 0 ? word.slice(0, word.length / 2) : "";
  return half !== "" && half === word.slice(word.length / 2) && COMMON_BASES.has(half);
}
