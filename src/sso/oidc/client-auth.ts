import * as client from "openid-client";

/**
 * The application/x-www-form-urlencoded serializer of the WHATWG URL standard, which RFC 6749
 * §2.3.1 names for HTTP Basic client credentials: `A-Z a-z 0-9 * - . _` stay as they are, a
 * space becomes `+`, everything else is percent-encoded as UTF-8. oauth4webapi's own encoder
 * also escapes `-._~!*'()`, so a client id such as `gatehouse-okta` went out as
 * `gatehouse%2Dokta`, which providers that take Basic credentials literally refuse.
 */
export function formUrlEncode(value: string): string {
  return new URLSearchParams([["", value]]).toString().slice(1);
}

/** client_secret_basic (RFC 6749 §2.3.1) with the serializer above. */
export function clientSecretBasic(secret: string): client.ClientAuth {
  return (_as, clientMetadata, _body, headers) => {
    const credentials = `${formUrlEncode(clientMetadata.client_id)}:${formUrlEncode(secret)}`;
    headers.set("authorization", `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`);
  };
}

/** client_secret_post: the credentials travel in the form body, encoded by URLSearchParams. */
export function clientSecretPost(secret: string): client.ClientAuth {
  return client.ClientSecretPost(secret);
}
