"""Two organizations, each provisioned by its own SCIM client on its own managed key, against
a served instance: neither sees nor changes the other's users on any route.

    python scripts/organizations.py BASE_URL ADMIN_KEY

ADMIN_KEY holds the `keys` scope (a bootstrap write key). The script makes one key per
organization bound to its `producerId` (what a customer pastes into its identity provider),
provisions three users through each key's SCIM face, then tries, with each key, every native
and SCIM route on the other organization's users. Prints `ok: ...` per check and exits
non-zero at the first that does not hold.
"""

import sys
import time
import uuid

import httpx

BASE_URL, ADMIN_KEY = sys.argv[1:3]
RUN = uuid.uuid4().hex[:8]
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
passed = 0


def check(condition, what):
    global passed
    if not condition:
        sys.exit(f"organizations: {what}")
    passed += 1
    print(f"ok: {what}")


def client(key):
    return httpx.Client(base_url=BASE_URL, headers={"Authorization": f"Bearer {key}"}, timeout=30)


admin = client(ADMIN_KEY)
orgs = {}
for name in ("a", "b"):
    org = str(uuid.uuid4())
    made = admin.post("/keys", json={"name": f"idp-{name}-{RUN}", "scopes": ["read", "write", "erase"], "producerId": org})
    check(made.status_code == 201, f"organization {name}: its SCIM token is a managed key bound to it")
    orgs[name] = {"org": org, "key": made.json()["id"], "http": client(made.json()["secret"]), "users": []}

for name, o in orgs.items():
    for i in range(3):
        made = o["http"].post(
            "/scim/v2/Users",
            json={
                "schemas": [SCIM_USER],
                "userName": f"{name}{i}.{RUN}@example.com",
                "externalId": f"{name}{i}-{RUN}",
                "emails": [{"value": f"{name}{i}.{RUN}@example.com", "primary": True}],
                "name": {"givenName": name.upper(), "familyName": str(i)},
            },
        )
        check(made.status_code == 201, f"{name} provisions {name}{i} through SCIM")
        o["users"].append(made.json())
    native = o["http"].get(f"/users/{name}0-{RUN}").json()
    check(native["producerId"] == o["org"], f"{name}'s users carry its producerId, set by the service")
    check(o["http"].delete(f"/users/{name}2-{RUN}").status_code == 200, f"{name} deletes its own {name}2")

for name, other in (("a", "b"), ("b", "a")):
    me, them = orgs[name], orgs[other]
    http = me["http"]
    mine = {u["id"] for u in me["users"][:2]}
    scim = http.get("/scim/v2/Users", params={"count": 100}).json()
    check({u["id"] for u in scim["Resources"]} == mine and scim["totalResults"] == 2, f"{name}'s SCIM list is its own two active users")
    search = http.get("/scim/v2/Users", params={"filter": f'userName eq "{other}0.{RUN}@example.com"'}).json()
    check(search["totalResults"] == 0, f"{name}'s SCIM search does not find {other}'s user")
    listed = http.get("/users", params={"pageSize": 100}).json()
    check({u["id"] for u in listed["data"]} == mine, f"{name}'s native list is its own two")
    feed = http.get("/users", params={"updatedFrom": "2000-01-01T00:00:00Z", "pageSize": 100}).json()
    everything = {u["id"] for u in me["users"]}
    check({u["id"] for u in feed["data"]} == everything, f"{name}'s feed is its own three, the deleted one included")
    deleted = http.get("/deleted-users", params={"pageSize": 100}).json()
    check([d["id"] for d in deleted["data"]] == [me["users"][2]["id"]], f"{name}'s deleted list is its own deletion")
    for n, victim in enumerate(them["users"]):
        vid, ext = victim["id"], victim["externalId"]
        attempts = [
            http.get(f"/scim/v2/Users/{vid}"),
            http.put(f"/scim/v2/Users/{vid}", json={"schemas": [SCIM_USER], "userName": f"x.{RUN}@example.com"}),
            http.patch(f"/scim/v2/Users/{vid}", json={"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}),
            http.delete(f"/scim/v2/Users/{vid}"),
            http.get(f"/users/{vid}"),
            http.get(f"/users/{ext}", params={"includeDeleted": "true"}),
            http.request("PATCH", f"/users/{ext}", json={"firstName": "Owned"}),
            http.delete(f"/users/{ext}"),
            http.post(f"/users/{ext}/restore"),
            http.post(f"/users/{ext}/erase"),
        ]
        check(all(r.status_code == 404 for r in attempts), f"{name} gets 404 on every route for {other}'s {ext}")
        check(all(vid not in r.text and ext not in r.text for r in attempts), "and no answer names it")
        if n < 2:  # an active user's userName is taken directory-wide (the deleted one's is free)
            taken = http.post("/scim/v2/Users", json={"schemas": [SCIM_USER], "userName": victim["userName"]})
            check(taken.status_code == 409 and vid not in taken.text, f"{other}'s userName is taken (409) and its id not shown")
        moved = http.post(f"/users/new-{name}-{RUN}", json={"producerId": them["org"]})
        check(moved.status_code == 403 and "producerId" in moved.text, f"{name} cannot create into {other}")
    untouched = admin.get(f"/users/{them['users'][0]['externalId']}").json()
    check(untouched.get("firstName") == other.upper() and untouched.get("deletedAt") is None, f"{other}'s user is unchanged")

everyone = admin.get("/users", params={"pageSize": 100, "producerId": orgs["a"]["org"]}).json()
check(len(everyone["data"]) == 2, "the admin key sees a's two active users with a filter")
revoked = admin.delete(f"/keys/{orgs['a']['key']}")
check(revoked.status_code == 200, "revoke a's token")
# Instances that read the key before keep it up to 10 s: poll, as an IdP's retries would.
revoked_at, status = time.monotonic(), None
while time.monotonic() - revoked_at < 15:
    status = orgs["a"]["http"].get("/scim/v2/Users").status_code
    if status == 401:
        break
    time.sleep(0.25)
waited = time.monotonic() - revoked_at
check(status == 401 and waited <= 11, f"a's revoked token is refused everywhere within 10 s ({waited:.1f} s)")
print(f"organizations: {passed} checks held")
