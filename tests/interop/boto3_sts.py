"""Drives the self-hosted STS and an API behind the IAM hook with boto3, as a real client would.

Usage: boto3_sts.py CONFIG_JSON, where CONFIG_JSON holds the two endpoints, the role ARNs and the
users' long-term credentials:
  {"sts": URL, "api": URL, "invoker": ARN, "partner": ARN, "missing_role": ARN,
   "alice": [KEY, SECRET], "carol": [KEY, SECRET], "bob": [KEY, SECRET]}

Prints one JSON object per line, each with a "step" name; tests/interop_boto3_sts.rs checks them.
Any unexpected exception ends the script with a traceback and a non-zero status.
"""
import datetime
import json
import sys
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

CFG = json.loads(sys.argv[1])
REGION = "us-east-1"
# One attempt: a retried request would hide what the server answered first.
CLIENT_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}, sort_keys=True), flush=True)


def sts(access_key, secret, token=None):
    return boto3.session.Session().client(
        "sts",
        endpoint_url=CFG["sts"],
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=CLIENT_CONFIG,
    )


def client_error(call):
    """The STS error of a call that must fail, as boto3 parsed it."""
    try:
        result = call()
    except ClientError as e:
        return {
            "code": e.response["Error"]["Code"],
            "message": e.response["Error"]["Message"],
            "type": e.response["Error"].get("Type"),
            "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    raise AssertionError(f"expected a ClientError, got {result!r}")


def call_api(credentials, method, path):
    """Signs a request to the API with botocore's SigV4Auth and sends it with urllib."""
    request = AWSRequest(method=method, url=CFG["api"] + path, headers={"Accept": "application/json"})
    SigV4Auth(credentials, "execute-api", REGION).add_auth(request)
    prepared = request.prepare()
    outgoing = urllib.request.Request(
        prepared.url,
        method=method,
        headers=dict(prepared.headers.items()),
        data=prepared.body or None,
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def session_credentials(response):
    c = response["Credentials"]
    return Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


alice = sts(*CFG["alice"])

# 1. Who is alice?
me = alice.get_caller_identity()
emit("alice_identity", arn=me["Arn"], account=me["Account"], user_id=me["UserId"])

# 2. Alice assumes Invoker (same account, named in the trust policy).
now = datetime.datetime.now(datetime.timezone.utc)
assumed = alice.assume_role(RoleArn=CFG["invoker"], RoleSessionName="boto3-alice", DurationSeconds=900)
creds = assumed["Credentials"]
emit(
    "assume_invoker",
    arn=assumed["AssumedRoleUser"]["Arn"],
    assumed_role_id=assumed["AssumedRoleUser"]["AssumedRoleId"],
    access_key_id_prefix=creds["AccessKeyId"][:4],
    access_key_id_len=len(creds["AccessKeyId"]),
    secret_len=len(creds["SecretAccessKey"]),
    token_len=len(creds["SessionToken"]),
    expires_in=round((creds["Expiration"] - now).total_seconds()),
    packed_policy_size=assumed.get("PackedPolicySize"),
)
invoker = session_credentials(assumed)

# 3. The session, seen by STS.
who = sts(invoker.access_key, invoker.secret_key, invoker.token).get_caller_identity()
emit("session_identity", arn=who["Arn"], account=who["Account"], user_id=who["UserId"])

# 4. The session calls the API: allowed for GET, denied for POST.
status, body = call_api(invoker, "GET", "/items/1?color=blue")
emit("api_get_as_session", status=status, body=json.loads(body))
status, body = call_api(invoker, "POST", "/items")
emit("api_post_as_session", status=status, body=json.loads(body))

# 5. Alice's own key: authenticated, but no identity policy lets her invoke.
status, body = call_api(Credentials(*CFG["alice"]), "GET", "/items/1")
emit("api_get_as_alice", status=status, body=json.loads(body))

# 6. Cross-account: carol (identity Allow, trusted account) may assume Partner; bob may not.
carol = sts(*CFG["carol"])
partner = carol.assume_role(RoleArn=CFG["partner"], RoleSessionName="carol-session")
emit(
    "assume_partner_carol",
    arn=partner["AssumedRoleUser"]["Arn"],
    assumed_role_id=partner["AssumedRoleUser"]["AssumedRoleId"],
)
status, body = call_api(session_credentials(partner), "GET", "/reports")
emit("api_get_as_partner", status=status, body=json.loads(body))

bob = sts(*CFG["bob"])
emit(
    "assume_partner_bob",
    **client_error(lambda: bob.assume_role(RoleArn=CFG["partner"], RoleSessionName="bob-session")),
)

# 7. The same AccessDenied for a role that does not exist.
emit(
    "assume_missing_role",
    **client_error(lambda: alice.assume_role(RoleArn=CFG["missing_role"], RoleSessionName="s1")),
)

# 8. A session name botocore lets through but STS refuses (pattern).
emit(
    "bad_session_name",
    **client_error(lambda: alice.assume_role(RoleArn=CFG["invoker"], RoleSessionName="bad name!")),
)

# 9. A forged session token and a wrong secret.
token = invoker.token
forged = token[:40] + ("B" if token[40] == "A" else "A") + token[41:]
emit(
    "forged_token",
    **client_error(lambda: sts(invoker.access_key, invoker.secret_key, forged).get_caller_identity()),
)
emit(
    "wrong_secret",
    **client_error(lambda: sts(CFG["alice"][0], "not-the-secret").get_caller_identity()),
)
