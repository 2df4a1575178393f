"""Signs a battery of execute-api requests with botocore (SigV4Auth, SigV4QueryAuth).

Usage: botocore_battery.py BASE_URL. Prints a JSON list of signed requests on stdout; the Rust
test tests/interop_clients.rs sends them to a server running tower-sigv4.
"""
import base64
import json
import sys

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BASE = sys.argv[1]
LONG = Credentials("AKIDBOTOCORE", "botocore/secret+key/0123456789abcdefghij")
TEMP = Credentials("ASIABOTOCORE", "botocore/temp+secret/0123456789abcdefghi", "botocore-session-token/+=")

CASES = [
    # name, method, path, params, headers, body, credentials, presign
    ("get-query", "GET", "/prod/items?b=2&a=1", None, {}, b"", LONG, False),
    ("get-encoded-path", "GET", "/prod/a%20b/c%2Fd", None, {}, b"", LONG, False),
    ("get-params", "GET", "/prod/search", {"q": "x y", "k": "a+b", "u": "\u00e9t\u00e9", "e": ""}, {}, b"", LONG, False),
    ("get-dot-segments", "GET", "/prod/x/../items", None, {}, b"", LONG, False),
    ("get-reserved-path", "GET", "/prod/user@example.com:8/!$'()*", None, {}, b"", LONG, False),
    ("get-double-slash", "GET", "/prod//items//", None, {}, b"", LONG, False),
    ("post-json", "POST", "/prod/items", None, {"Content-Type": "application/json", "X-Custom": "  a   b  "}, b'{"name": "widget"}', LONG, False),
    ("put-binary", "PUT", "/prod/blob", None, {"Content-Type": "application/octet-stream"}, bytes(range(256)) * 16, LONG, False),
    ("delete-token", "DELETE", "/prod/items/7", None, {}, b"", TEMP, False),
    ("post-token", "POST", "/prod/items", None, {"Content-Type": "text/plain"}, b"hello", TEMP, False),
    ("presign-get", "GET", "/prod/items?x=1", None, {}, b"", LONG, True),
    ("presign-get-token", "GET", "/prod/report", None, {}, b"", TEMP, True),
    ("presign-params", "GET", "/prod/search", {"q": "a b", "z": "1"}, {}, b"", LONG, True),
]

out = []
for name, method, path, params, headers, body, creds, presign in CASES:
    request = AWSRequest(method=method, url=BASE + path, params=params, headers=dict(headers), data=body)
    if presign:
        SigV4QueryAuth(creds, "execute-api", "us-east-1", expires=300).add_auth(request)
    else:
        SigV4Auth(creds, "execute-api", "us-east-1").add_auth(request)
    prepared = request.prepare()
    out.append(
        {
            "name": name,
            "method": method,
            "url": prepared.url,
            "headers": [[k, v if isinstance(v, str) else v.decode()] for k, v in prepared.headers.items()],
            "body": base64.b64encode(prepared.body or b"").decode(),
            "access_key_id": creds.access_key,
        }
    )
json.dump(out, sys.stdout)
