"""Manages identities through the gateway's IAM API with boto3's `iam` client, then uses them
(the API with botocore's SigV4Auth, STS's AssumeRole), as an operator and a client would.

Usage: boto3_iam.py CONFIG_JSON with
  {"endpoint": URL, "account": ACCOUNT, "admin": [KEY, SECRET], "others": [URL, ...]}
("others": replicas sharing the store; new keys must work there too).

Prints one JSON object per line, each with a "step" name; the Rust test checks them. Any
unexpected exception ends the script with a traceback and a non-zero status.
"""
import json
import sys
import time
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

CFG = json.loads(sys.argv[1])
ACCOUNT = CFG["account"]
REGION = "us-east-1"
CLIENT_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}, sort_keys=True, default=str), flush=True)


def client(service, key, secret, token=None, endpoint=None):
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint or CFG["endpoint"],
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=CLIENT_CONFIG,
    )


def error(call):
    try:
        call()
    except ClientError as e:
        return {
            "code": e.response["Error"]["Code"],
            "message": e.response["Error"]["Message"],
            "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    raise AssertionError("the call succeeded")


def api(method, path, key, secret, token=None, endpoint=None):
    url = (endpoint or CFG["endpoint"]) + path
    request = AWSRequest(method=method, url=url, data=b"")
    SigV4Auth(Credentials(key, secret, token), "execute-api", REGION).add_auth(request)
    prepared = urllib.request.Request(url, method=method, headers=dict(request.headers))
    try:
        with urllib.request.urlopen(prepared, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def poll(condition, what, within=2.0):
    """Polls `condition` until it holds; returns the seconds it took. Fails past `within` + 1 s."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > within + 1.0:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.05)


admin = client("iam", *CFG["admin"])
invoke = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke",
         "Resource": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:apiid/prod/GET/*"},
        {"Effect": "Allow", "Action": ["iam:GetUser", "iam:CreateAccessKey", "iam:ListAccessKeys",
                                        "iam:UpdateAccessKey", "iam:DeleteAccessKey"],
         "Resource": f"arn:aws:iam::{ACCOUNT}:user/team/${{aws:username}}"},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/*"},
    ],
}

created = admin.create_user(UserName="alice", Path="/team/", Tags=[{"Key": "team", "Value": "blue"}])["User"]
emit("create_user", arn=created["Arn"], path=created["Path"], tags=created["Tags"],
     user_id_prefix=created["UserId"][:4], user_id_len=len(created["UserId"]))
emit("create_user_again", **error(lambda: admin.create_user(UserName="ALICE")))

admin.put_user_policy(UserName="alice", PolicyName="invoke", PolicyDocument=json.dumps(invoke, indent=1))
got = admin.get_user_policy(UserName="Alice", PolicyName="INVOKE")
emit("get_user_policy", user=got["UserName"], name=got["PolicyName"], document=got["PolicyDocument"] == invoke)

key1 = admin.create_access_key(UserName="alice")["AccessKey"]
emit("create_access_key", id_prefix=key1["AccessKeyId"][:4], id_len=len(key1["AccessKeyId"]),
     secret_len=len(key1["SecretAccessKey"]), status=key1["Status"])
k1 = (key1["AccessKeyId"], key1["SecretAccessKey"])

emit("api_allowed", status=api("GET", "/items", *k1)[0],
     others=[api("GET", "/items", *k1, endpoint=o)[0] for o in CFG.get("others", [])])
emit("api_denied", status=api("POST", "/items", *k1)[0])

alice = client("iam", *k1)
emit("alice_get_self", arn=alice.get_user()["User"]["Arn"])
emit("alice_list_users", **error(lambda: alice.list_users()))

# Rotation, by alice herself: a second key, the first deactivated, then refused.
key2 = alice.create_access_key()["AccessKey"]
k2 = (key2["AccessKeyId"], key2["SecretAccessKey"])
emit("third_key", **error(lambda: alice.create_access_key()))
alice.update_access_key(AccessKeyId=k1[0], Status="Inactive")
took = poll(lambda: api("GET", "/items", *k1)[0] == 403, "the deactivated key refused")
emit("rotated", refused=api("GET", "/items", *k1), new_key=api("GET", "/items", *k2)[0], within_bound=took <= 2.0)
listed = client("iam", *k2).list_access_keys()["AccessKeyMetadata"]
emit("list_access_keys", statuses=sorted(k["Status"] for k in listed))

# A role created through the API, assumed with STS.
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
         "Principal": {"AWS": created["Arn"]}, "Action": "sts:AssumeRole"}]}
role = admin.create_role(RoleName="reader", Path="/svc/", AssumeRolePolicyDocument=json.dumps(trust),
                         Description="reads", MaxSessionDuration=7200)["Role"]
emit("create_role", arn=role["Arn"], has_max="MaxSessionDuration" in role)
admin.put_role_policy(RoleName="reader", PolicyName="get", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
    "Resource": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:apiid/prod/GET/reports"}]}))
got_role = admin.get_role(RoleName="reader")["Role"]
emit("get_role", max=got_role["MaxSessionDuration"], description=got_role["Description"],
     trust=got_role["AssumeRolePolicyDocument"] == trust)
session = client("sts", *k2).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
creds = session["Credentials"]
st = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
emit("assume_role", arn=session["AssumedRoleUser"]["Arn"],
     reports=api("GET", "/reports", *st)[0], items=api("GET", "/items", *st)[0])
emit("session_get_user", **error(lambda: client("iam", *st).get_user()))

# Errors of the spec that boto3 can send.
emit("no_such_user", **error(lambda: admin.get_user(UserName="nobody")))
emit("delete_conflict", **error(lambda: admin.delete_user(UserName="alice")))
emit("malformed_policy", **error(lambda: admin.put_user_policy(
    UserName="alice", PolicyName="bad", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}')))
emit("validation", **error(lambda: admin.create_user(UserName="x" * 65)))
emit("duplicate_tags", **error(lambda: admin.tag_user(
    UserName="alice", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])))
emit("no_such_role", **error(lambda: admin.get_role(RoleName="missing")))

# Pagination: the paginator follows the markers.
for name in ["u1", "u2", "u3"]:
    admin.create_user(UserName=name)
pages = list(admin.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}))
emit("pages", count=len(pages), users=[u["UserName"] for p in pages for u in p["Users"]])

# Deleting.
for name in ["u1", "u2", "u3"]:
    admin.delete_user(UserName=name)
for k in (k1, k2):
    admin.delete_access_key(UserName="alice", AccessKeyId=k[0])
poll(lambda: api("GET", "/items", *k2)[0] == 403, "the deleted key refused")
admin.delete_user_policy(UserName="alice", PolicyName="invoke")
admin.delete_role_policy(RoleName="reader", PolicyName="get")
admin.delete_role(RoleName="reader")
admin.delete_user(UserName="alice")
emit("deleted", **error(lambda: admin.get_user(UserName="alice")))
