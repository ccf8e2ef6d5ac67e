"""
An OpenID Provider built from Debian's python3-authlib on Flask, for Gatehouse's interoperability
test (authlib-op.test.ts). Authlib decides what the protocol accepts and answers: the
authorization code grant with its PKCE and OpenID Connect extensions, client authentication at
the token endpoint, and the signed ID token. This script only supplies what any deployment of
Authlib must: its accounts, one registered client, storage, a signing key and the discovery
document.

Reads one JSON object on stdin, {"clientId", "clientSecret", "redirectUri"}, listens on a free
loopback port and prints one line, {"issuer"}, once it accepts connections. It runs until killed.

Test-only endpoints, which a real provider would not have:
  GET  /test/log       what the provider received: codes issued and token requests
  POST /test/settings  {"clientSecret"}: the provider's admin regenerated the client secret;
                       {"signingKey": "unpublished"}: ID tokens signed by a key not in the JWKS
"""
import hmac
import json
import os
import secrets
import sys
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.jose import JsonWebKey
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, g, jsonify, request, session
from markupsafe import escape
from werkzeug.serving import make_server

# Authlib refuses plain http unless told; this provider listens on loopback only.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

# The provider's own directory. `sub` is opaque and stable, as at Okta or Entra ID.
ACCOUNTS = {
    "alice": {"password": "alice-password", "sub": "00u1alice", "email": "alice@acme.test", "name": "Alice Liddell"},
    "bob": {"password": "bob-password", "sub": "00u2bob", "email": "bob@acme.test", "name": "Bob Dobbs"},
    "mallory": {"password": "mallory-password", "sub": "00u3mallory", "email": "mallory@evil.test", "name": "Mallory"},
}
SCOPES = ["openid", "email", "profile"]
CODE_LIFETIME_SECONDS = 60

registration = json.loads(sys.stdin.read())
signing_keys = {
    "published": JsonWebKey.generate_key("RSA", 2048, is_private=True),
    "unpublished": JsonWebKey.generate_key("RSA", 2048, is_private=True),
}
state = {"clientSecret": registration["clientSecret"], "signingKey": "published"}
codes = {}
log = {"authorizations": [], "tokenRequests": []}


class User:
    def __init__(self, username):
        self.username = username
        self.account = ACCOUNTS[username]


class Client(ClientMixin):
    client_id = registration["clientId"]
    redirect_uri = registration["redirectUri"]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uri

    def get_allowed_scope(self, scope):
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(client_secret.encode(), state["clientSecret"].encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint == "token" and method == "client_secret_basic"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


CLIENT = Client()


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, **values):
        self.__dict__.update(values)

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def save_authorization_code(self, code, req):
        record = {
            "clientId": req.client_id,
            "redirectUri": req.redirect_uri,
            "scope": req.scope,
            "state": req.state,
            "nonce": req.data.get("nonce"),
            "codeChallenge": req.data.get("code_challenge"),
            "codeChallengeMethod": req.data.get("code_challenge_method"),
            "user": req.user.username,
        }
        log["authorizations"].append(record)
        codes[code] = AuthorizationCode(
            code=code,
            client_id=req.client_id,
            redirect_uri=req.redirect_uri,
            scope=req.scope,
            nonce=record["nonce"],
            code_challenge=record["codeChallenge"],
            code_challenge_method=record["codeChallengeMethod"],
            username=req.user.username,
            auth_time=session["auth_time"],
            expires_at=time.time() + CODE_LIFETIME_SECONDS,
        )

    def query_authorization_code(self, code, client):
        found = codes.get(code)
        if found and found.client_id == client.get_client_id() and found.expires_at > time.time():
            return found
        return None

    def delete_authorization_code(self, authorization_code):
        codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        g.token_record.update(
            authMethod=self.request.auth_method,
            codeVerifier=self.request.form.get("code_verifier"),
            user=authorization_code.username,
        )
        return User(authorization_code.username)


class RequireS256(CodeChallenge):
    """Authlib requires PKCE only of public clients; this provider requires S256 of every client."""

    def validate_code_challenge(self, grant):
        if not grant.request.data.get("code_challenge"):
            raise InvalidRequestError('Missing "code_challenge"')
        if grant.request.data.get("code_challenge_method") != "S256":
            raise InvalidRequestError('"code_challenge_method" must be S256')
        super().validate_code_challenge(grant)


class OpenID(OpenIDCode):
    def exists_nonce(self, nonce, req):
        return any(a["nonce"] == nonce and a["clientId"] == req.client_id for a in log["authorizations"])

    def get_jwt_config(self, grant):
        key = signing_keys[state["signingKey"]].as_dict(is_private=True)
        return {"key": key, "alg": "RS256", "iss": ISSUER, "exp": 300}

    def generate_user_info(self, user, scope):
        account = user.account
        info = UserInfo(sub=account["sub"])
        if "email" in scope:
            info.update(email=account["email"], email_verified=True)
        if "profile" in scope:
            info["name"] = account["name"]
        return info


app = Flask(__name__)
app.secret_key = secrets.token_bytes(32)
server = AuthorizationServer(app, query_client=lambda client_id: CLIENT if client_id == CLIENT.client_id else None,
                             save_token=lambda token, req: None)
server.register_grant(CodeGrant, [RequireS256(required=True), OpenID(require_nonce=True)])


@app.get("/.well-known/openid-configuration")
def discovery():
    return jsonify(
        issuer=ISSUER,
        authorization_endpoint=f"{ISSUER}/authorize",
        token_endpoint=f"{ISSUER}/token",
        jwks_uri=f"{ISSUER}/jwks",
        scopes_supported=SCOPES,
        response_types_supported=["code"],
        grant_types_supported=["authorization_code"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        token_endpoint_auth_methods_supported=["client_secret_basic"],
        code_challenge_methods_supported=["S256"],
        claims_supported=["sub", "email", "email_verified", "name"],
    )


@app.get("/jwks")
def jwks():
    public = signing_keys["published"].as_dict(is_private=False)
    return jsonify({"keys": [{**public, "use": "sig", "alg": "RS256"}]})


@app.route("/authorize", methods=["GET", "POST"])
def authorize():
    if request.method == "POST":
        account = ACCOUNTS.get(request.form.get("username", ""))
        if not account or not hmac.compare_digest(account["password"], request.form.get("password", "")):
            return "Wrong username or password", 401
        session["user"] = request.form["username"]
        session["auth_time"] = int(time.time())
    if "user" in session:
        return server.create_authorization_response(grant_user=User(session["user"]))
    # The request is checked before anyone is asked to sign in, as at any provider.
    try:
        server.get_consent_grant()
    except OAuth2Error as error:
        return server.handle_error_response(None, error)
    action = escape(request.full_path)
    return (
        f'<form method="post" action="{action}"><input name="username"><input name="password" type="password">'
        "<button>Sign in</button></form>"
    )


@app.post("/token")
def token():
    g.token_record = {}
    response = server.create_token_response()
    body = response.get_json(silent=True) or {}
    log["tokenRequests"].append({**g.token_record, "status": response.status_code, "error": body.get("error")})
    return response


@app.get("/test/log")
def test_log():
    return jsonify(log)


@app.post("/test/settings")
def test_settings():
    state.update(request.get_json())
    return jsonify({})


http = make_server("127.0.0.1", 0, app, threaded=True)
ISSUER = f"http://127.0.0.1:{http.server_port}"
print(json.dumps({"issuer": ISSUER}), flush=True)
http.serve_forever()
