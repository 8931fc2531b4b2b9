"""A signed-in person against a served instance: they read and edit their own record with a
token from a test issuer, and nothing else; hostile tokens are refused and change nothing.

    python scripts/sign_in.py BASE_URL ADMIN_KEY ISSUER_PORT AUDIENCE

The served instance must have been started with OIDC_ISSUER=http://127.0.0.1:ISSUER_PORT and
OIDC_AUDIENCE=AUDIENCE. This script is that issuer: it makes an ES256 key pair, serves its
discovery document and key set on ISSUER_PORT while it runs, and signs the tokens. ADMIN_KEY
(a bootstrap write key) makes the users and reads them back. Prints `ok: ...` per check and
exits non-zero at the first that does not hold.
"""

import base64
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time
import uuid

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

BASE_URL, ADMIN_KEY, ISSUER_PORT, AUDIENCE = sys.argv[1:5]
ISSUER = f"http://127.0.0.1:{ISSUER_PORT}"
RUN = uuid.uuid4().hex[:8]
passed = 0

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER = ec.generate_private_key(ec.SECP256R1())
JWK = json.loads(ECAlgorithm.to_jwk(KEY.public_key())) | {"kid": "sign-in-1", "alg": "ES256", "use": "sig"}


class Issuer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        documents = {
            "/.well-known/openid-configuration": {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"},
            "/jwks": {"keys": [JWK]},
        }
        body = json.dumps(documents.get(self.path, {})).encode()
        self.send_response(200 if self.path in documents else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def check(condition, what):
    global passed
    if not condition:
        sys.exit(f"sign-in: {what}")
    passed += 1
    print(f"ok: {what}")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(sub, **extra):
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 300} | extra


def token(sub, key=KEY, kid="sign-in-1", **extra):
    return jwt.encode(claims(sub, **extra), key, algorithm="ES256", headers={"kid": kid})


def as_person(tok):
    return httpx.Client(base_url=BASE_URL, headers={"Authorization": f"Bearer {tok}"}, timeout=30)


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(ISSUER_PORT)), Issuer)
threading.Thread(target=server.serve_forever, daemon=True).start()
admin = httpx.Client(base_url=BASE_URL, headers={"Authorization": ADMIN_KEY}, timeout=30)
ada, bob = f"signin-ada-{RUN}", f"signin-bob-{RUN}"
for who in (ada, bob):
    made = admin.post(f"/users/{who}", json={"firstName": who.split("-")[1], "role": "member"})
    check(made.status_code == 200, f"the directory holds {who}")

me = as_person(token(ada))
read = me.get("/me")
check(read.status_code == 200 and read.json()["bubbleId"] == ada, "GET /me answers the person's own record")
check(read.headers.get("etag") == '"1"', "with its ETag")
xml = me.get("/me", headers={"Accept": "application/xml"})
check(xml.status_code == 200 and xml.text.lstrip().startswith("<"), "and as XML")
edited = me.patch("/me", json={"lastName": "Lovelace"}, headers={"If-Match": '"1"'})
check(edited.status_code == 200 and edited.json()["lastName"] == "Lovelace", "PATCH /me edits it (If-Match)")
stored = admin.get(f"/users/{ada}").json()
check(stored["lastName"] == "Lovelace" and stored["version"] == 2, "the directory sees the edit")
role = me.patch("/me", json={"role": "admin"})
check(role.status_code == 403 and role.json()["details"][0]["field"] == "role", "a field outside SELF_EDITABLE is 403 naming it")
check(admin.get(f"/users/{ada}").json()["version"] == 2, "and nothing is stored")
check(me.get(f"/users/{bob}").status_code == 401, "the token opens no other route")
check(me.get("/scim/v2/Users").status_code == 401, "nor SCIM")
key_on_me = httpx.get(f"{BASE_URL}/me", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
check(key_on_me.status_code == 401, "an API key does not open /me")
check('error="invalid_token"' in key_on_me.headers.get("www-authenticate", ""), "401s carry RFC 6750's invalid_token")
check(as_person(token(f"nobody-{RUN}")).get("/me").status_code == 404, "a token naming no user is 404")

header, payload, signature = token(ada).split(".")
tampered = f"{header}.{b64(json.dumps(claims(bob)).encode())}.{signature}"
none = f"{b64(json.dumps({'alg': 'none', 'kid': 'sign-in-1'}).encode())}.{b64(json.dumps(claims(ada)).encode())}."
hs_header = b64(json.dumps({"alg": "HS256", "kid": "sign-in-1", "typ": "JWT"}).encode())
hs_body = b64(json.dumps(claims(ada)).encode())
hs_sig = b64(hmac.new(json.dumps(JWK).encode(), f"{hs_header}.{hs_body}".encode(), hashlib.sha256).digest())
hostile = {
    "expired": token(ada, exp=int(time.time()) - 120),
    "not yet valid": token(ada, nbf=int(time.time()) + 300),
    "another audience": token(ada, aud="another-app"),
    "another issuer": token(ada, iss="https://evil.example"),
    "alg none": none,
    "a tampered payload": tampered,
    "a key the issuer does not publish": token(ada, key=OTHER, kid="sign-in-2"),
    "a known kid signed by another key": token(ada, key=OTHER),
    "HS256 keyed with the public key": f"{hs_header}.{hs_body}.{hs_sig}",
    "oversized": token(ada, pad="x" * 9000),
}
for what, tok in hostile.items():
    person = as_person(tok)
    check(person.get("/me").status_code == 401 and person.patch("/me", json={"lastName": "pwned"}).status_code == 401,
          f"{what}: 401 on GET and PATCH")
after = (admin.get(f"/users/{ada}").json(), admin.get(f"/users/{bob}").json())
check(after[0]["version"] == 2 and after[0]["lastName"] == "Lovelace", "no hostile token changed the person")
check(after[1]["version"] == 1, "nor anyone else")
server.shutdown()
print(f"sign-in: {passed} checks passed")
