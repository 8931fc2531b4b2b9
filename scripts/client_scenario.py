"""A client developer's first day, through a Python client generated from the served spec.

    python scripts/client_scenario.py BASE_URL KEY CLIENT_DIR

CLIENT_DIR holds `users_api_client`, as `openapi-python-client generate` wrote it. Every call
goes through the generated functions and models: upsert, read by both ids, patch with
If-Match (and a stale one), delete, read deleted, restore, batch create, batch upsert, walk
the list and the feed by their cursors, a parallel initial sync by segments, the deleted list; managed keys (create one bound to
an organization with the read scope, use it, list, read, rotate, revoke); and API Gateway's
own 429 body parses. Exits non-zero at the first thing that does not hold.
"""

import datetime
import sys
from concurrent.futures import ThreadPoolExecutor
import uuid
from urllib.parse import parse_qs, urlparse

import httpx

BASE_URL, KEY, CLIENT_DIR = sys.argv[1:4]
sys.path.insert(0, CLIENT_DIR)

from users_api_client import AuthenticatedClient  # noqa: E402
from users_api_client.api.default import (  # noqa: E402
    batch_create_users,
    create_key,
    delete_user,
    get_key,
    list_keys,
    revoke_key,
    rotate_key,
    get_user,
    list_deletions,
    list_users,
    patch_user,
    restore_user,
    upsert_user,
)
from users_api_client.models import Error, GatewayError, KeyCreate, KeyRotation, User, UserWrite  # noqa: E402
from users_api_client.types import UNSET  # noqa: E402

RUN = uuid.uuid4().hex[:8]
client = AuthenticatedClient(base_url=BASE_URL, token=KEY, prefix="Bearer")


def check(condition, what):
    if not condition:
        sys.exit(f"client scenario: {what}")
    print(f"ok: {what}")


def body(**fields):
    return UserWrite.from_dict(fields)


def cursor_of(next_page_url):
    """The cursor a nextPageUrl carries (None at the end)."""
    if not next_page_url:
        return None
    return parse_qs(urlparse(next_page_url).query)["cursor"][0]


def walk(**query):
    """Every user of a list, following its cursors; the number of pages."""
    users, pages, cursor = [], 0, None
    while True:
        page = list_users.sync(client=client, page_size=2, cursor=cursor or UNSET, **query)
        check(not isinstance(page, (Error, GatewayError)), f"list page {pages + 1} parses")
        users += page.data
        pages += 1
        cursor = cursor_of(page.pagination.next_page_url)
        if cursor is None:
            return users, pages


started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
bubble = f"client-{RUN}"

created = upsert_user.sync_detailed(
    bubble, client=client, body=body(bubbleId=bubble, email=f"ada.{RUN}@example.com", firstName="Ada")
)
check(created.status_code in (200, 201) and isinstance(created.parsed, User), "upsert creates a user")
user = created.parsed

by_bubble = get_user.sync(bubble, client=client)
by_id = get_user.sync(str(user.id), client=client)
check(isinstance(by_bubble, User) and by_bubble.id == user.id, "read by bubbleId")
check(isinstance(by_id, User) and by_id.bubble_id == bubble, "read by id")

etag = created.headers["etag"]
patched = patch_user.sync_detailed(bubble, client=client, body=body(lastName="Lovelace"), if_match=etag)
check(patched.status_code == 200 and patched.parsed.last_name == "Lovelace", "patch with If-Match")
stale = patch_user.sync_detailed(bubble, client=client, body=body(lastName="Byron"), if_match=etag)
check(
    stale.status_code == 412 and isinstance(stale.parsed, Error) and stale.parsed.error == "ALGOREP_035",
    "a stale If-Match is a parsed 412 ALGOREP_035",
)

deleted = delete_user.sync_detailed(bubble, client=client)
check(deleted.status_code == 200, "delete")
gone = get_user.sync_detailed(bubble, client=client)
check(gone.status_code == 404 and gone.parsed.error == "ALGOREP_029", "a deleted user reads as 404")
kept = get_user.sync(bubble, client=client, include_deleted=True)
check(isinstance(kept, User) and kept.deleted_at is not None, "includeDeleted shows it, with deletedAt")
restored = restore_user.sync_detailed(bubble, client=client)
check(restored.status_code == 200 and restored.parsed.deleted_at is None, "restore")

batch = [body(bubbleId=f"batch-{RUN}-{i}", firstName=f"B{i}") for i in range(3)]
made = batch_create_users.sync(client=client, body=batch)
check(
    [item.status for item in made.data] == [201, 201, 201],
    "batch create: each item has its own status",
)
again = [body(bubbleId=f"batch-{RUN}-{i}", firstName="Same" if i else "Changed") for i in range(3)]
upserted = batch_create_users.sync(client=client, body=again, upsert=True)
check(
    [item.status for item in upserted.data] == [200, 200, 200] and upserted.data[0].user.first_name == "Changed",
    "batch upsert: one read, each item upserted",
)
delete_user.sync_detailed(f"batch-{RUN}-2", client=client)

mine = {bubble} | {f"batch-{RUN}-{i}" for i in range(2)}
listed, pages = walk()
listed_ids = [u.bubble_id for u in listed]
check(mine <= set(listed_ids) and len(listed_ids) == len(set(listed_ids)), f"the list walk ({pages} pages) sees each active user once")
check(f"batch-{RUN}-2" not in listed_ids, "the list leaves the deleted user out")

feed, pages = walk(updated_from=started.isoformat())
feed_ids = [u.bubble_id for u in feed]
check(mine <= set(feed_ids), f"the feed walk ({pages} pages, updatedFrom repeated) sees every change since the start")



def walk_segment(index, count):
    """One worker of a parallel initial sync: its segment of the feed, by its own cursors;
    None if a page did not parse (checked once the workers are done, so their lines don't mix)."""
    users, cursor = [], None
    while True:
        page = list_users.sync(
            client=client, updated_from="1970-01-01", segment=index, segments=count,
            page_size=1000, cursor=cursor or UNSET,
        )
        if isinstance(page, (Error, GatewayError)) or page is None:
            return None
        users += page.data
        cursor = cursor_of(page.pagination.next_page_url)
        if cursor is None:
            return users


# A mirror's first sync split among 4 workers, pages of up to 1,000 (httpx asks for gzip and
# decodes it): together they return every user of the directory once.
with ThreadPoolExecutor(4) as pool:
    parts = list(pool.map(lambda i: walk_segment(i, 4), range(4)))
check(all(part is not None for part in parts), "each of 4 segments' pages of 1,000 parse")
synced = [u.id for part in parts for u in part]
whole, _ = walk(updated_from="1970-01-01")
check(
    len(synced) == len(set(synced)) and set(synced) == {u.id for u in whole},
    f"a parallel initial sync: 4 segments of the feed return the {len(whole)} users once",
)

deletions = list_deletions.sync(client=client, page_size=100)
check(any(r.bubble_id == f"batch-{RUN}-2" for r in deletions.data), "the deleted list names the deleted user")

# Managed keys: a read key bound to one organization, used, listed, rotated and revoked.
org = str(uuid.uuid4())
made = create_key.sync_detailed(
    client=client, body=KeyCreate.from_dict({"name": f"reader-{RUN}", "scopes": ["read"], "producerId": org})
)
check(made.status_code == 201 and made.parsed.secret.startswith("uak_"), "create a managed key: its secret, once")
key_id = made.parsed.id
reader = AuthenticatedClient(base_url=BASE_URL, token=made.parsed.secret, prefix="Bearer")
check(get_user.sync_detailed(bubble, client=reader).status_code == 404, "a bound key does not see another organization's user")
check(list_users.sync(client=reader).data == [], "a bound key lists its organization only")
refused = upsert_user.sync_detailed(f"reader-{RUN}", client=reader, body=body(firstName="No"))
check(refused.status_code == 403, "a read key cannot write")
listed_keys = list_keys.sync(client=client)
check(any(k.id == key_id for k in listed_keys.data), "the key is listed")
record = get_key.sync(key_id, client=client)
check(record.id == key_id and "secret" not in record.to_dict() and record.last_used_at not in (None, UNSET), "a key's record: no secret, lastUsedAt set")
rotated = rotate_key.sync_detailed(key_id, client=client, body=KeyRotation.from_dict({"overlapHours": 1}))
check(rotated.status_code == 200 and rotated.parsed.secret != made.parsed.secret, "rotate: a new secret")
rolled = AuthenticatedClient(base_url=BASE_URL, token=rotated.parsed.secret, prefix="Bearer")
check(
    list_users.sync_detailed(client=reader).status_code == 200 and list_users.sync_detailed(client=rolled).status_code == 200,
    "both secrets work during the overlap",
)
revoked = revoke_key.sync_detailed(key_id, client=client)
check(revoked.status_code == 200 and revoked.parsed.revoked_at not in (None, UNSET), "revoke")
check(list_users.sync_detailed(client=rolled).status_code == 401, "a revoked key is refused")

# API Gateway answers throttling itself, with its own body: the client must still parse it.
gateway = httpx.Response(429, json={"message": "Too Many Requests"})
parsed = get_user._parse_response(client=client, response=gateway)
check(isinstance(parsed, GatewayError) and parsed.message == "Too Many Requests", "API Gateway's 429 body parses")
print("client scenario: every step held")
