import {
  CONNECTION_FIELDS,
  type ConnectionInput,
  splitDomains,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type TokenEndpointAuthMethodChoice,
} from "../../connections/validate.js";
import { splitRoleRules } from "../../domain/provider-roles.js";
import { GatehouseError, isGatehouseError } from "../../errors.js";
import { textField, textFields } from "../../web/form.js";
import type { FormRefusal as GenericFormRefusal } from "./form-fields.js";

export type ConnectionField = keyof ConnectionInput;

/** What the form shows again after a refusal, as typed. The client secret is never among them. */
export type ConnectionFormValues = Record<Exclude<ConnectionField, "clientSecret">, string>;

export const emptyConnectionForm: ConnectionFormValues = {
  name: "",
  issuer: "",
  clientId: "",
  domains: "",
  tokenEndpointAuthMethod: "auto",
  extraScopes: "",
  emailClaim: "",
  clockSkewSeconds: "",
  allowedTenants: "",
  groupsClaim: "",
  roleRules: "",
  defaultRole: "member",
};

export interface SubmittedConnectionForm {
  values: ConnectionFormValues;
  input: ConnectionInput;
  secretSubmitted: boolean;
}

function isAuthMethodChoice(value: string): value is TokenEndpointAuthMethodChoice {
  return (TOKEN_ENDPOINT_AUTH_METHODS as readonly string[]).includes(value);
}

// Generous limits: the service's own checks answer with a message beside the field; these only
// stop absurd bodies.
export function readConnectionForm(body: unknown): SubmittedConnectionForm {
  const values: ConnectionFormValues = {
    name: textField(body, "name", 1000),
    issuer: textField(body, "issuer", 2000),
    clientId: textField(body, "clientId", 2000),
    // The organization's domains ticked in the list, and new ones typed beside them.
    domains: [...textFields(body, "knownDomains", 100, 300), textField(body, "domains", 5000)]
      .filter(Boolean)
      .join(" "),
    tokenEndpointAuthMethod: textField(body, "tokenEndpointAuthMethod", 100) || "auto",
    extraScopes: textField(body, "extraScopes", 3000),
    emailClaim: textField(body, "emailClaim", 200),
    clockSkewSeconds: textField(body, "clockSkewSeconds", 20),
    allowedTenants: textField(body, "allowedTenants", 3000),
    groupsClaim: textField(body, "groupsClaim", 200),
    roleRules: textField(body, "roleRules", 30000),
    defaultRole: textField(body, "defaultRole", 20) || "member",
  };
  const method = values.tokenEndpointAuthMethod;
  // The page offers a fixed list; anything else was not sent by it.
  if (!isAuthMethodChoice(method)) {
    throw new GatehouseError(
      "REQUEST_INVALID",
      "Choose a token endpoint authentication method from the list.",
      {
        detail: "tokenEndpointAuthMethod outside the offered choices",
      },
    );
  }
  const clientSecret = textField(body, "clientSecret", 4000);
  const skew = values.clockSkewSeconds.trim();
  return {
    values,
    input: {
      name: values.name,
      issuer: values.issuer,
      clientId: values.clientId,
      clientSecret,
      domains: splitDomains(values.domains),
      tokenEndpointAuthMethod: method,
      extraScopes: values.extraScopes.split(/[\s,]+/).filter(Boolean),
      emailClaim: values.emailClaim,
      allowedTenants: values.allowedTenants.split(/[\s,;]+/).filter(Boolean),
      groupsClaim: values.groupsClaim,
      roleRules: splitRoleRules(values.roleRules),
      defaultRole: values.defaultRole,
      // Number("1.5") or NaN are refused by the service with a message beside the field.
      ...(skew ? { clockSkewSeconds: /^\d{1,6}$/.test(skew) ? Number(skew) : Number.NaN } : {}),
    },
    secretSubmitted: clientSecret.trim() !== "",
  };
}

/** A refusal the Setup page explains in place, rather than on an error page. */
export type FormRefusal = GenericFormRefusal<ConnectionField>;

export function toFormRefusal(error: unknown): FormRefusal | undefined {
  if (!isGatehouseError(error)) return undefined;
  const isDiscovery = error.code.startsWith("SSO_");
  if (error.code !== "VALIDATION_FAILED" && error.code !== "CONFLICT" && !isDiscovery) return undefined;
  const fields: Partial<Record<ConnectionField, string>> = {};
  for (const name of CONNECTION_FIELDS) {
    const message = error.fields?.[name];
    if (message) fields[name] = sentence(message);
  }
  // Whatever went wrong talking to the provider, the Issuer URL is the field to fix.
  if (isDiscovery && !fields.issuer) fields.issuer = error.message;
  return { code: error.code, status: error.status, message: error.message, detail: error.detail, fields };
}

/** Some checks phrase their field messages as fragments ("must start with https://"). */
function sentence(message: string): string {
  return /^[a-z]+\s/.test(message) ? message.charAt(0).toUpperCase() + message.slice(1) : message;
}
