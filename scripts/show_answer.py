"""Prints a Lambda HTTP answer document (statusCode, headers, body) the way curl -i would.

    cargo lambda invoke ... --output-format json | python3 scripts/show_answer.py
"""
import base64
import json
import sys
from http import HTTPStatus

answer = json.load(sys.stdin)
status = answer.get("statusCode", 0)
try:
    reason = HTTPStatus(status).phrase
except ValueError:
    reason = ""
print(f"HTTP {status} {reason}".rstrip())
for name, value in sorted(answer.get("headers", {}).items()):
    print(f"{name}: {value}")
print()
body = answer.get("body") or ""
if answer.get("isBase64Encoded"):
    body = base64.b64decode(body).decode("utf-8", "replace")
try:
    print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
except ValueError:
    print(body)
