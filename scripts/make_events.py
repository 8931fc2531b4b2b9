#!/usr/bin/env python3
"""Writes events/: API Gateway HTTP API (payload v2) events, one per route and outcome.

Files are named NN-<what>-<status>.json and are meant to be replayed in name order against a
fresh embedded store (tests/it/events.rs does, and checks each status). Re-run after editing:
    python3 scripts/make_events.py
"""
import base64
import json
import pathlib

WRITE = {"authorization": "dev-write-key", "content-type": "application/json"}
READ = {"x-api-key": "dev-read-key", "x-api-key-type": "read"}
SEED_ID = "1708861331497x933611102973227500"
SEED = {
    "bubbleId": SEED_ID, "isMailConfirmed": True, "language": "Français",
    "lastConnexion": "2024-01-19T12:45:04.147Z", "email": "algorep@algorep.ai",
    "mobilePhone": "0609921214", "producerBubbleId": SEED_ID,
    "producerId": "50658c1e-356e-4407-b120-d110552292d8", "sellerBubbleId": SEED_ID,
    "sellerId": "50658c1e-356e-4407-b120-d110552292d8", "originBubbleId": SEED_ID,
    "originId": "50658c1e-356e-4407-b120-d110552292d8", "lastName": "Macron",
    "firstName": "Emmanuel", "status": "3 - ACTIF", "role": "producerAdmin",
    "userSignedUp": True,
    "avatar": "//15c83987ea78e6559235081e42c9135b.cdn.bubble.io/f1713427188226x475005611045967500/api",
    "isAlgorep": False, "createdAt": "2024-01-19T12:45:04.147Z", "updatedAt": "2024-01-19T12:45:04.147Z",
}
USER = f"/users/{SEED_ID}"
SCIM = {"authorization": "Bearer dev-write-key", "content-type": "application/scim+json"}
KEYS = {"x-api-key": "dev-write-key"}
KEYS_WRITE = {"x-api-key": "dev-write-key", "content-type": "application/json"}
SCIM_USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    "externalId": "aad-0001", "userName": "ann@contoso.com", "active": True,
    "name": {"givenName": "Ann", "familyName": "Lee"}, "displayName": "Ann Lee",
    "emails": [{"value": "ann@contoso.com", "type": "work", "primary": True}],
}

EVENTS = [
    ("health-200", "GET", "/health", "", {}, None),
    ("upsert-seed-200", "POST", USER, "", WRITE, SEED),
    ("upsert-merge-200", "POST", USER, "", WRITE, {"firstName": "Brigitte", "mobilePhone": None}),
    ("upsert-unchanged-200", "POST", USER, "", WRITE, {"firstName": "Brigitte"}),
    ("get-by-bubble-id-200", "GET", USER, "", READ, None),
    ("get-xml-200", "GET", USER, "", {**READ, "accept": "application/xml"}, None),
    ("upsert-unknown-field-400", "POST", USER, "", WRITE, {"nickname": "Manu"}),
    ("upsert-bad-email-400", "POST", USER, "", WRITE, {"email": "not-an-address"}),
    ("upsert-id-in-body-400", "POST", USER, "", WRITE, {"id": "50658c1e-356e-4407-b120-d110552292d8"}),
    ("upsert-no-key-401", "POST", USER, "", {"content-type": "application/json"}, {"firstName": "X"}),
    ("upsert-read-key-403", "POST", USER, "", {**READ, "content-type": "application/json"}, {"firstName": "X"}),
    ("upsert-duplicate-email-409", "POST", "/users/other-user", "", WRITE, {"email": "ALGOREP@algorep.ai"}),
    ("upsert-stale-if-match-412", "POST", USER, "", {**WRITE, "if-match": "\"1\""}, {"firstName": "X"}),
    ("upsert-not-json-415", "POST", USER, "", {**WRITE, "content-type": "text/plain"}, "firstName=X"),
    ("get-missing-404", "GET", "/users/nobody", "", READ, None),
    ("get-not-acceptable-406", "GET", USER, "", {**READ, "accept": "text/html"}, None),
    ("unknown-route-404", "GET", "/accounts", "", READ, None),
    ("method-not-allowed-405", "DELETE", "/health", "", WRITE, None),
    ("update-put-200", "PUT", USER, "", WRITE, {"role": "producer"}),
    ("update-patch-200", "PATCH", USER, "", {**WRITE, "content-type": "application/merge-patch+json"}, {"status": "4 - INACTIF"}),
    ("update-missing-404", "PUT", "/users/nobody", "", WRITE, {"role": "x"}),
    ("batch-create-200", "POST", "/users", "", WRITE, [
        {"bubbleId": "batch-1", "email": "one@example.com", "firstName": "One"},
        {"bubbleId": "batch-2", "email": "algorep@algorep.ai"},
        {"bubbleId": "batch-3", "nickname": "bad"},
    ]),
    ("batch-too-many-413", "POST", "/users", "", WRITE, [{"bubbleId": f"b{i}"} for i in range(101)]),
    ("batch-not-array-400", "POST", "/users", "", WRITE, {"bubbleId": "x"}),
    ("list-200", "GET", "/users", "pageSize=1", READ, None),
    ("list-xml-200", "GET", "/users", "page=2&pageSize=1", {**READ, "accept": "application/xml"}, None),
    ("list-bad-page-size-400", "GET", "/users", "pageSize=1001", READ, None),
    ("list-tampered-cursor-400", "GET", "/users", "cursor=abc.def", READ, None),
    ("feed-200", "GET", "/users", "updatedFrom=1970-01-01&pageSize=50", READ, None),
    ("feed-bad-date-400", "GET", "/users", "updatedFrom=yesterday", READ, None),
    ("delete-200", "DELETE", USER, "", WRITE, None),
    ("delete-again-404", "DELETE", USER, "", WRITE, None),
    ("get-deleted-404", "GET", USER, "", READ, None),
    ("get-include-deleted-200", "GET", USER, "includeDeleted=true", READ, None),
    ("deleted-users-200", "GET", "/deleted-users", "", READ, None),
    ("upsert-takes-freed-email-200", "POST", "/users/newcomer", "", WRITE, {"email": "algorep@algorep.ai"}),
    ("restore-email-taken-409", "POST", f"{USER}/restore", "", WRITE, None),
    ("delete-newcomer-200", "DELETE", "/users/newcomer", "", WRITE, None),
    ("restore-200", "POST", f"{USER}/restore", "", WRITE, None),
    ("restore-missing-404", "POST", "/users/nobody/restore", "", WRITE, None),
    ("list-page-beyond-window-400", "GET", "/users", "page=1001&pageSize=10", READ, None),
    ("feed-year-10000-400", "GET", "/users", "updatedFrom=%2B10000-01-01", READ, None),
    ("batch-upsert-created-200", "POST", "/users", "upsert=true", WRITE,
     [{"bubbleId": "sync-1", "email": "sync1@example.com", "firstName": "Ann"}]),
    ("batch-upsert-unchanged-200", "POST", "/users", "upsert=true", WRITE,
     [{"bubbleId": "sync-1", "email": "sync1@example.com", "firstName": "Ann"}]),
    ("batch-upsert-updated-200", "POST", "/users", "upsert=true", WRITE,
     [{"bubbleId": "sync-1", "firstName": "Anne"}]),
    ("delete-sync-user-200", "DELETE", "/users/sync-1", "", WRITE, None),
    ("batch-upsert-reactivated-200", "POST", "/users", "upsert=true", WRITE,
     [{"bubbleId": "sync-1", "firstName": "Anne"}]),
    ("batch-upsert-item-errors-200", "POST", "/users", "upsert=true", WRITE,
     [{"bubbleId": "sync-2", "email": "not-an-address"},
      {"bubbleId": "sync-3", "email": "ALGOREP@algorep.ai"},
      {"bubbleId": "sync-3"}]),
    ("find-by-email-200", "GET", "/users", "email=ALGOREP%40algorep.ai", READ, None),
    ("find-by-id-200", "GET", "/users", f"id={SEED_ID}", READ, None),
    ("list-by-producer-200", "GET", "/users", "producerId=50658c1e-356e-4407-b120-d110552292d8&pageSize=10", READ, None),
    ("two-filters-400", "GET", "/users", "email=a%40b.io&username=a", READ, None),
    ("unknown-parameter-400", "GET", "/users", "emial=algorep%40algorep.ai", READ, None),
    # In UTC this instant is in year 10000: not RFC 3339 once rendered, so refused.
    ("upsert-last-connexion-year-10000-400", "POST", USER, "", WRITE,
     {"lastConnexion": "9999-12-31T23:59:59-00:01"}),
    # API Gateway passes a binary body as base64; bytes that are not UTF-8 are a 400.
    ("upsert-body-not-utf8-400", "POST", USER, "", WRITE, b"\xff\xfe{}"),
    # SCIM 2.0, as an identity provider calls it.
    ("scim-service-provider-config-200", "GET", "/scim/v2/ServiceProviderConfig", "", SCIM, None),
    ("scim-test-connection-200", "GET", "/scim/v2/Users",
     "filter=userName+eq+%2263c5c2f8-8c1b-4a0e-9a1f-3b6f0f0e2d11%22", SCIM, None),
    ("scim-create-201", "POST", "/scim/v2/Users", "", SCIM, SCIM_USER),
    ("scim-create-again-409", "POST", "/scim/v2/Users", "", SCIM, SCIM_USER),
    ("scim-find-by-username-200", "GET", "/scim/v2/Users",
     "filter=userName+eq+%22ann%40contoso.com%22", SCIM, None),
    ("scim-unsupported-filter-400", "GET", "/scim/v2/Users",
     "filter=title+co+%22eng%22", SCIM, None),
    ("erase-deleted-200", "POST", "/users/newcomer/erase", "", WRITE, None),
    ("restore-erased-409", "POST", "/users/newcomer/restore", "", WRITE, None),
    ("erase-again-404", "POST", "/users/newcomer/erase", "", WRITE, None),
    ("erase-read-key-403", "POST", f"{USER}/erase", "", READ, None),
    ("feed-from-the-seeds-default-date-200", "GET", "/users", "updatedFrom=1999-01-01", READ, None),
    # Managed keys: one customer's IdP gets its own SCIM token, bound to its organization.
    ("create-bound-key-201", "POST", "/keys", "", KEYS_WRITE,
     {"name": "acme-entra", "scopes": ["read", "write"],
      "producerId": "50658c1e-356e-4407-b120-d110552292d8"}),
    ("list-keys-200", "GET", "/keys", "", KEYS, None),
    ("revoke-unknown-key-404", "DELETE", "/keys/key_00000000000000000000000000000000", "", KEYS, None),
    ("create-key-read-key-403", "POST", "/keys", "", {"x-api-key": "dev-read-key", "content-type": "application/json"},
     {"name": "sneaky", "scopes": ["read"]}),
    # A person's own record opens with their identity provider's token, never an API key
    # (with a token from the issuer OIDC_ISSUER names, the first is 200: see the README).
    ("me-with-an-api-key-401", "GET", "/me", "", {"authorization": "Bearer dev-write-key"}, None),
    ("me-edit-without-a-token-401", "PATCH", "/me", "", {"content-type": "application/json"},
     {"lastName": "Signed-in"}),
    # A mirror's first sync split among 32 workers: this is worker 1's first page, up to
    # 1,000 users, gzip-compressed (Lambda answers it base64-encoded; API Gateway decodes).
    ("feed-segment-gzip-200", "GET", "/users", "updatedFrom=1970-01-01&segment=1&segments=32&pageSize=1000",
     {**READ, "accept-encoding": "gzip"}, None),
    ("feed-bad-segments-400", "GET", "/users", "updatedFrom=1970-01-01&segment=0&segments=3", READ, None),
]


def event(n, method, path, query, headers, body):
    binary = isinstance(body, bytes)
    if binary:
        text = base64.b64encode(body).decode()
    else:
        text = None if body is None else body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "localhost", "user-agent": "users-api-events", **headers},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "users-api-events"},
            "requestId": f"event-{n:02d}",
            "routeKey": "$default",
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1795305600000,
        },
        **({"body": text} if text is not None else {}),
        "isBase64Encoded": binary,
    }


def main():
    out = pathlib.Path(__file__).resolve().parent.parent / "events"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.json"):
        old.unlink()
    for n, (name, *rest) in enumerate(EVENTS, start=1):
        path = out / f"{n:02d}-{name}.json"
        path.write_text(json.dumps(event(n, *rest), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
