export type OidcProviderModule = typeof import("oidc-provider");

/**
 * oidc-provider prints two warnings that are wrong or irrelevant here: that Node 20 is an
 * unsupported runtime (it works; Gatehouse supports Node >= 20.11) and that the in-memory adapter
 * loses state on restart (which is what a throwaway development IdP wants). Everything else it
 * prints still goes through.
 */
const irrelevantWarnings = [
  "oidc-provider WARNING: Unsupported runtime",
  "development-only in-memory adapter",
];

export function muteIrrelevantWarnings(): () => void {
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    const first = args[0];
    if (typeof first === "string" && irrelevantWarnings.some((text) => first.includes(text))) return;
    original.apply(console, args);
  };
  return () => {
    console.warn = original;
  };
}

let providerModule: Promise<OidcProviderModule> | undefined;

export function loadOidcProvider(): Promise<OidcProviderModule> {
  providerModule ??= (async () => {
    // The runtime warning is printed while the module evaluates, so it is imported lazily.
    const unmute = muteIrrelevantWarnings();
    try {
      return await import("oidc-provider");
    } finally {
      unmute();
    }
  })();
  return providerModule;
}
