import type { ConnectionInput } from "../../connections/validate.js";
import { splitDomains } from "../../connections/validate.js";
import { type ErrorCode, isGatehouseError } from "../../errors.js";
import { textField } from "../../web/form.js";

export type ConnectionField = keyof ConnectionInput;

/** What the form shows again after a refusal. The client secret is never among them. */
export interface ConnectionFormValues {
  name: string;
  issuer: string;
  clientId: string;
  domains: string;
}

export const emptyConnectionForm: ConnectionFormValues = { name: "", issuer: "", clientId: "", domains: "" };

export interface SubmittedConnectionForm {
  values: ConnectionFormValues;
  input: ConnectionInput;
  secretSubmitted: boolean;
}

// Generous limits: the service's own checks answer with a message beside the field; these only
// stop absurd bodies.
export function readConnectionForm(body: unknown): SubmittedConnectionForm {
  const values: ConnectionFormValues = {
    name: textField(body, "name", 1000),
    issuer: textField(body, "issuer", 2000),
    clientId: textField(body, "clientId", 2000),
    domains: textField(body, "domains", 5000),
  };
  const clientSecret = textField(body, "clientSecret", 4000);
  return {
    values,
    input: { ...values, clientSecret, domains: splitDomains(values.domains) },
    secretSubmitted: clientSecret.trim() !== "",
  };
}

/** A refusal the Setup page explains in place, rather than on an error page. */
export interface FormRefusal {
  code: ErrorCode;
  status: number;
  message: string;
  /** The technical reason, for the log only. */
  detail: string | undefined;
  fields: Partial<Record<ConnectionField, string>>;
}

const formFields: readonly ConnectionField[] = ["name", "issuer", "clientId", "clientSecret", "domains"];

export function toFormRefusal(error: unknown): FormRefusal | undefined {
  if (!isGatehouseError(error)) return undefined;
  const isDiscovery = error.code.startsWith("SSO_");
  if (error.code !== "VALIDATION_FAILED" && error.code !== "CONFLICT" && !isDiscovery) return undefined;
  const fields: Partial<Record<ConnectionField, string>> = {};
  for (const name of formFields) {
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
