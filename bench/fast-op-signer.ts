import { parentPort, workerData } from "node:worker_threads";
import * as jose from "jose";

/** One worker of the fast OpenID Provider's signing pool: signs ID token claims with RS256. */
interface SignerData {
  privateJwk: jose.JWK;
  kid: string;
}

const { privateJwk, kid } = workerData as SignerData;
const key = await jose.importJWK(privateJwk, "RS256");

parentPort?.on("message", (message: { id: number; claims: jose.JWTPayload }) => {
  new jose.SignJWT(message.claims)
    .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
    .sign(key)
    .then(
      (jwt) => parentPort?.postMessage({ id: message.id, jwt }),
      (error: unknown) => parentPort?.postMessage({ id: message.id, error: String(error) }),
    );
});
parentPort?.postMessage({ ready: true });
