"""scim2-tester (the python-scim project's conformance checker) against a served /scim/v2.

    python scripts/scim_conformance.py BASE_URL WRITE_KEY

Runs every check (discovery, CRUD, PATCH add/replace/remove of every mutable attribute,
attribute filtering), prints one line per check, and exits 1 if any check failed. Checks
the tester skips (a feature the server says it lacks, such as bulk) are listed as skipped.
"""
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base, key = sys.argv[1], sys.argv[2]
    http = httpx2.Client(
        base_url=f"{base}/scim/v2",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    results = check_server(SyncSCIMClient(http))
    counts = {status: 0 for status in Status}
    for r in results:
        counts[r.status] += 1
        where = f" [{r.resource_type}]" if r.resource_type else ""
        print(f"{r.status.name:<8} {r.title}{where}: {r.reason}")
    passed, failed = counts[Status.SUCCESS], counts[Status.ERROR]
    skipped = sum(n for s, n in counts.items() if s not in (Status.SUCCESS, Status.ERROR))
    print(f"scim2-tester: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
