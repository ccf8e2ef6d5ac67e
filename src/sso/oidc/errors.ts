import { GatehouseError } from "../../errors.js";

/** Our own errors can travel through openid-client wrapped in its ClientError: find them. */
export function findGatehouseError(error: unknown): GatehouseError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    if (current instanceof GatehouseError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
