/**
 * The contract between the sign-in pipeline and a protocol. The pipeline (src/sign-in/) runs
 * every sign-in the same way — consume the transaction, `adapter.complete`, map claims to a
 * role, the domain and enforcement policy, provision, session, audit — and never knows which
 * protocol ran. A protocol (OpenID Connect, LinkedIn, SAML 2.0) is one object implementing
 * `SignInAdapter`, registered under its name; everything it does with the identity provider
 * (requests, signatures, tokens, XML) stays inside it.
 *
 * The names mirror the flow:
 *
 *   begin     the pipeline has made a transaction and its handle; the adapter builds the
 *             request to the IdP and says how the browser gets there (redirect or auto-POST)
 *   readHandle the IdP's answer carries the handle back (OIDC `state`, SAML `RelayState`)
 *   complete  the pipeline has consumed the transaction the handle names; the adapter checks
 *             the answer and returns a neutral `Assertion`, or throws a GatehouseError whose
 *             `check` names the failed check with what was expected and received
 *   endSession where to send the browser to end the IdP's session, if anywhere
 */
import type { AppContext } from "../server/context.js";
import type { Connection } from "../store/connections.js";

/** A real sign-in, or an admin's test sign-in, which runs every check and starts no session. */
export type SignInPurpose = "sign_in" | "test";

/**
 * A sign-in between `begin` and `complete`, stored server-side and consumed exactly once.
 * The handle the IdP carries back is never stored: `id` is its SHA-256.
 */
export interface SignInTransaction {
  /** SHA-256 (base64url) of the handle. */
  id: string;
  /** The registry name of the adapter that began it (`oidc`, `linkedin`, `saml`). */
  protocol: string;
  /** The connection signed in through; null for LinkedIn and for a test of unsaved settings. */
  connectionId: string | null;
  /** SHA-256 of the browser-binding cookie set when the flow began: the answer must come back to the same browser. */
  browserHash: string;
  /** A same-origin path (src/domain/return-to.ts) to land on afterwards. */
  returnTo: string;
  purpose: SignInPurpose;
  /** For a test sign-in: its `connection_tests` row. */
  connectionTestId: string | null;
  /** The IdP was asked to sign the person in afresh (`BeginInput.reauthenticate`). */
  reauthenticate: boolean;
  createdAt: number;
  expiresAt: number;
  /**
   * What the adapter keeps between begin and complete (OIDC: nonce and PKCE verifier; SAML:
   * the AuthnRequest ID), stored as JSON text. Read back as `unknown`: `complete` parses it,
   * as it would any stored input.
   */
  payload: unknown;
}

/** What the adapter signs in through. */
export interface SignInTarget {
  /**
   * The connection, with its protocol's settings; for a test of unsaved settings, a connection
   * built from them that is not stored. Undefined for a deployment-wide provider (LinkedIn).
   */
  connection: Connection | undefined;
  /** False for a test of unsaved settings: nothing about it may outlive the attempt (caches). */
  saved: boolean;
}

export interface BeginInput {
  /**
   * The transaction's handle: opaque, URL-safe, at most 64 characters (SAML allows 80 bytes of
   * RelayState). The adapter sends it to the IdP so that it comes back with the answer.
   */
  handle: string;
  /** The address the person typed, when the IdP accepts a hint (OIDC `login_hint`). */
  loginHint?: string | undefined;
  /**
   * Ask the IdP to sign the person in afresh rather than reuse its session (OIDC
   * `prompt=login`, SAML `ForceAuthn`): to switch from an account the IdP had signed in, or
   * because an application asked Gatehouse for `prompt=login` or `max_age`.
   */
  reauthenticate?: boolean | undefined;
  now: number;
}

/** How the browser reaches the IdP. */
export type BrowserStep =
  | { kind: "redirect"; url: string }
  /** An auto-submitting form (SAML HTTP-POST binding), rendered by the pipeline's page. */
  | { kind: "post"; url: string; fields: Readonly<Record<string, string>> };

export interface Begun {
  step: BrowserStep;
  /** Stored with the transaction and handed back to `complete`; JSON-serializable, never a secret in clear. */
  payload: Record<string, unknown>;
  /** When the IdP's answer stops being accepted, if earlier than the pipeline's 10 minutes. */
  expiresAt?: number | undefined;
}

/** The IdP's answer as the browser delivered it, without framework types. */
export interface SignInResponse {
  /** The full URL the browser came back to, query included (OIDC's authorization response). */
  url: URL;
  method: "GET" | "POST";
  /** A POSTed form's fields (SAML's `SAMLResponse`, `RelayState`); empty for a GET. */
  form: Readonly<Record<string, string>>;
}

/**
 * What `complete` tells the pipeline as it runs: each check that passed, with what was expected
 * and received (a test sign-in's result lists them; a real sign-in keeps none), and who the
 * answer is about as soon as that is known (the audit entry of a later refusal names them).
 */
export interface SignInAttempt {
  /** True for a test sign-in: worth computing the expected and received values. */
  readonly recording: boolean;
  pass(check: string, expected?: unknown, received?: unknown): void;
  identify(facts: { subject?: string | undefined; email?: string | undefined }): void;
  /**
   * What the provider sent, once its signature is verified: a test sign-in shows it even when a
   * later check refuses, so the admin sees which claims or attributes did come.
   */
  received(sets: readonly ClaimSet[]): void;
}

/** One check `complete` runs, in its order, as a test sign-in's result lists it. */
export interface CheckDescription {
  check: string;
  label: string;
}

/** What ends the IdP's session later (kept sealed with the session; never shown). */
export type IdpSession =
  | {
      protocol: "oidc";
      /** For `id_token_hint` (OIDC RP-Initiated Logout 1.0). */
      idToken: string;
      /** The ID token's `sid`, for back-channel logout. */
      sid: string | null;
    }
  | {
      protocol: "saml";
      nameId: string;
      nameIdFormat: string | null;
      /** The AuthnStatement's SessionIndex, for a LogoutRequest. */
      sessionIndex: string | null;
    };

/** A set of claims as the IdP sent it, for a test sign-in's result page. */
export interface ClaimSet {
  /** Names the set on the page (`data-testid="<key>-claims"`): `id-token`, `userinfo`, `saml-attributes`. */
  key: string;
  /** e.g. "ID token claims", "SAML attributes". */
  title: string;
  /** Null when the set was not fetched; `note` says why. */
  claims: Readonly<Record<string, unknown>> | null;
  note?: string | undefined;
  /** What the protocol calls a name in the set, heading its column: "Claim" unless said. */
  nameHeading?: "Claim" | "Attribute" | undefined;
}

/**
 * Who the IdP says this is, after every protocol check passed. The pipeline decides the rest:
 * whether this connection may assert this address, enforcement, the account, the role.
 */
export interface Assertion {
  /** `connection:<id>` or `linkedin`: the namespace in which `subject` is unique. */
  providerKey: string;
  /** The IdP's stable identifier for the person (OIDC `sub`, SAML NameID), at most 255 characters. */
  subject: string;
  /** Normalized (src/domain/email.ts). */
  email: string;
  /**
   * False when the address came from a claim the IdP does not vouch for (`upn`,
   * `preferred_username`): such an address never links an existing account.
   */
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  /**
   * The claims role rules read the groups from (`connection.roles.groupsClaim`): OIDC the ID
   * token's over userinfo's, SAML the attributes by name (multi-valued as arrays).
   */
  claims: Readonly<Record<string, unknown>>;
  /** The IdP's session, for signing out there; null when the protocol has none. */
  idpSession: IdpSession | null;
  /** What the IdP sent, as it sent it, for a test sign-in's result; never tokens or XML. */
  rawClaims: readonly ClaimSet[];
}

/**
 * A protocol. Methods throw `GatehouseError`s (src/errors.ts) with a code naming the refusal
 * and, for a failed check, `check: { check, expected, received }`; library errors are wrapped
 * here, with the original as `cause`, and never reach the pipeline.
 */
export interface SignInAdapter {
  /** The registry name, stored with each transaction (`oidc`, `linkedin`, `saml`). */
  readonly protocol: string;
  /** What a successful sign-in is audited as (`sign_in.sso`, `sign_in.linkedin`) and counted under. */
  readonly method: "sso" | "linkedin";
  /** The checks `complete` runs, in order, for a test sign-in's result page. */
  readonly checks: readonly CheckDescription[];

  /**
   * An admin's input for a connection of this protocol, validated and normalized; throws
   * VALIDATION_FAILED with a message per field. Absent for deployment-wide providers.
   */
  validateSettings?(input: unknown): Promise<unknown>;

  /** Builds the request to the IdP for a transaction the pipeline is about to store. */
  begin(target: SignInTarget, input: BeginInput): Promise<Begun>;

  /** The handle the answer carries back, or undefined when it has none (an error, or IdP-initiated). */
  readHandle(response: SignInResponse): string | undefined;

  /**
   * For an answer without a handle at a connection's own endpoint (IdP-initiated SAML): whether
   * the connection accepts one. The pipeline then completes it with a transaction of its own
   * (purpose `sign_in`, `returnTo` from `unsolicitedReturnTo`, payload null), so the adapter's
   * own replay protection must stand alone. Absent: such answers are refused (SSO_STATE_MISSING).
   */
  acceptsUnsolicited?(target: SignInTarget): boolean;

  /**
   * For an unsolicited answer `acceptsUnsolicited` let in: where the IdP asks the person to land,
   * as the answer carries it (the IdP's choice, untrusted). The pipeline lands there only when
   * it is a same-origin path (src/domain/return-to.ts), else on "/"; absent, always on "/".
   */
  unsolicitedReturnTo?(response: SignInResponse): string | undefined;

  /**
   * Checks the IdP's answer for the consumed transaction (already known to be this browser's,
   * unused and in time) and returns who it asserts. Every refusal names its check
   * (`GatehouseError.check.check`, one of `checks`).
   */
  complete(
    target: SignInTarget,
    response: SignInResponse,
    transaction: SignInTransaction,
    attempt: SignInAttempt,
  ): Promise<Assertion>;

  /**
   * Where to send the browser to end the IdP's session after the local one ended; undefined
   * when the IdP offers no logout. `state` comes back on the return to `postLogoutUrl`.
   */
  endSession?(
    target: SignInTarget,
    session: IdpSession,
    input: { state: string; postLogoutUrl: string },
  ): Promise<string | undefined>;
}

/**
 * Adapters are made once per application context, so they hold its store, secret box, outbound
 * client and caches rather than module globals; the registry (src/sign-in/registry.ts) lists one
 * factory per protocol.
 */
export type SignInAdapterFactory = (ctx: AppContext) => SignInAdapter;
