"""moto's DynamoDB-compatible server, one request at a time.

`moto_server` is always threaded, and moto's TransactWriteItems deep-copies whole tables for
rollback without a lock: under concurrent requests it can fail with "dictionary changed size
during iteration", or roll a concurrent write back. Serving one request at a time keeps every
request atomic, which is what DynamoDB guarantees and what the race tests rely on.

    python scripts/moto_serial.py HOST PORT
"""
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
