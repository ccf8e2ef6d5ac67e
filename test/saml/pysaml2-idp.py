"""
A SAML IdP built from Debian's python3-pysaml2 (signing and encryption by xmlsec1), for
Gatehouse's positive-path tests. Nothing here decides what a response contains beyond the
user: pysaml2 composes, signs and encrypts it as it would for any service provider.

Reads one JSON object on stdin, writes one on stdout:
  {"command": "metadata", "keyFile", "certFile"}                      -> {"metadata"}
  {"command": "respond", "keyFile", "certFile", "spMetadata", "samlRequest",
   "encrypt": false | "aes256-cbc" | "pysaml2-default",
   "user": {"email", "name", "groups"}}                             -> {"samlResponse"}

pysaml2 7 encrypts assertions with 3DES-CBC and offers no setting for it (Gatehouse refuses
3DES); "aes256-cbc" swaps in AES-256-CBC through pysaml2's own encryption template and xmlsec1,
as a deployment of pysaml2 has to.
"""
import base64
import json
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.sigver import get_pem_wrapped_unwrapped, make_temp, pre_encryption_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

ENTITY_ID = "https://pysaml2-idp.test/metadata"
SSO_URL = "https://pysaml2-idp.test/sso"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"


class AesServer(Server):
    def _encrypt_assertion(self, encrypt_cert, sp_entity_id, response, node_xpath=None):
        certs = [encrypt_cert] if encrypt_cert else self.metadata.certs(sp_entity_id, "any", "encryption")
        wrapped, unwrapped = get_pem_wrapped_unwrapped(certs[0])
        key_file = make_temp(wrapped.encode("ascii"), decode=False, delete_tmpfiles=self.config.delete_tmpfiles)
        template = pre_encryption_part(msg_enc=AES256_CBC, encrypt_cert=unwrapped)
        return self.sec.encrypt_assertion(response, key_file.name, template, key_type="aes-256", node_xpath=node_xpath)


def config(request):
    settings = {
        "entityid": ENTITY_ID,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "key_file": request["keyFile"],
        "cert_file": request["certFile"],
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [(SSO_URL, BINDING_HTTP_REDIRECT), (SSO_URL, BINDING_HTTP_POST)],
                },
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                "sign_assertion": True,
                "sign_response": False,
            },
        },
    }
    if request.get("spMetadata"):
        settings["metadata"] = {"inline": [request["spMetadata"]]}
    conf = IdPConfig()
    conf.load(settings)
    return conf


def metadata(request):
    return {"metadata": str(entity_descriptor(config(request)))}


def respond(request):
    encrypt = request.get("encrypt") or False
    idp = (AesServer if encrypt == "aes256-cbc" else Server)(config=config(request))
    parsed = idp.parse_authn_request(request["samlRequest"], BINDING_HTTP_REDIRECT)
    authn_request = parsed.message
    user = request["user"]
    identity = {"mail": [user["email"]], "displayName": [user["name"]], "eduPersonAffiliation": user["groups"]}
    response = idp.create_authn_response(
        identity,
        in_response_to=authn_request.id,
        destination=authn_request.assertion_consumer_service_url,
        sp_entity_id=authn_request.issuer.text,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=user["email"]),
        authn={"class_ref": PASSWORDPROTECTEDTRANSPORT},
        sign_assertion=True,
        sign_response=False,
        encrypt_assertion=bool(encrypt),
        encrypt_assertion_self_contained=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    return {"samlResponse": base64.b64encode(str(response).encode("utf-8")).decode("ascii")}


if __name__ == "__main__":
    req = json.load(sys.stdin)
    out = {"metadata": metadata, "respond": respond}[req["command"]](req)
    json.dump(out, sys.stdout)
