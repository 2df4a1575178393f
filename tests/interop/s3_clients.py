"""Real S3 clients against examples/s3_server.rs: boto3 and the AWS CLI (v1).

usage: s3_clients.py ENDPOINT [CA_BUNDLE]

Every step asserts its result; the first failure exits non-zero with a message. On success,
prints one line per step, `ok <name>`, and finally `all ok`.
"""

import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import ssl

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
MiB = 1024 * 1024

endpoint = sys.argv[1]
ca_bundle = sys.argv[2] if len(sys.argv) > 2 else None
https = endpoint.startswith("https://")
bucket = "interop-https" if https else "interop-http"


def ok(name):
    print(f"ok {name}", flush=True)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", flush=True)
        sys.exit(1)


def data(n, seed):
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:n])


client = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id=AKID,
    aws_secret_access_key=SECRET,
    verify=ca_bundle if https else None,
    # Presigned URLs are SigV2 unless asked for SigV4 (requests are SigV4 either way).
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
)
print(f"botocore {botocore.__version__}", flush=True)

# Buckets.
client.create_bucket(Bucket=bucket)
names = [b["Name"] for b in client.list_buckets()["Buckets"]]
check(bucket in names, f"list_buckets has {bucket}: {names}")
ok("create_bucket/list_buckets")

# put_object, small: the default checksum (CRC32) goes with it.
small = b"Hello world"
r = client.put_object(Bucket=bucket, Key="small.txt", Body=small, ContentType="text/plain")
check(r["ETag"] == '"%s"' % hashlib.md5(small).hexdigest(), f"small ETag {r['ETag']}")
got = client.get_object(Bucket=bucket, Key="small.txt")
check(got["Body"].read() == small, "small body round trip")
check(got["ContentType"] == "text/plain", f"content type {got['ContentType']}")
ok("put_object small")

# put_object, 20 MiB.
big = data(20 * MiB, "twenty")
r = client.put_object(Bucket=bucket, Key="big.bin", Body=big)
check(r["ETag"] == '"%s"' % hashlib.md5(big).hexdigest(), "20 MiB ETag")
head = client.head_object(Bucket=bucket, Key="big.bin")
check(head["ContentLength"] == len(big), f"head length {head['ContentLength']}")
check(client.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == big, "20 MiB round trip")
ok("put_object 20 MiB")

# Range.
part = client.get_object(Bucket=bucket, Key="big.bin", Range="bytes=1000-1999")
check(part["ContentRange"] == f"bytes 1000-1999/{len(big)}", part["ContentRange"])
check(part["Body"].read() == big[1000:2000], "range body")
ok("get_object range")

with tempfile.TemporaryDirectory() as tmp:
    # upload_file of 40 MiB: multipart (8 MiB parts), default checksum behaviour.
    path = os.path.join(tmp, "forty.bin")
    forty = data(40 * MiB, "forty")
    with open(path, "wb") as f:
        f.write(forty)
    client.upload_file(path, bucket, "forty.bin")
    head = client.head_object(Bucket=bucket, Key="forty.bin")
    check(head["ContentLength"] == len(forty), "40 MiB length")
    check(head["ETag"].endswith('-5"'), f"multipart ETag {head['ETag']}")
    digests = b"".join(hashlib.md5(forty[i : i + 8 * MiB]).digest() for i in range(0, len(forty), 8 * MiB))
    check(head["ETag"] == '"%s-5"' % hashlib.md5(digests).hexdigest(), f"multipart ETag value {head['ETag']}")
    ok("upload_file 40 MiB multipart")

    out = os.path.join(tmp, "forty.out")
    client.download_file(bucket, "forty.bin", out)
    with open(out, "rb") as f:
        check(f.read() == forty, "download_file round trip")
    ok("download_file")

    # Presigned GET and PUT.
    ctx = ssl.create_default_context(cafile=ca_bundle) if https else None
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small.txt"}, ExpiresIn=300)
    with urllib.request.urlopen(url, context=ctx) as resp:
        check(resp.read() == small, "presigned GET body")
    ok("presigned GET")

    # boto3's default presigned URLs are SigV2: refused as S3 refuses an unsupported mechanism.
    v2 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        verify=ca_bundle if https else None,
        config=Config(s3={"addressing_style": "path"}),
    )
    url2 = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small.txt"}, ExpiresIn=300)
    check("Signature=" in url2 and "X-Amz-Algorithm" not in url2, url2)
    try:
        urllib.request.urlopen(url2, context=ctx)
        check(False, "SigV2 URL accepted")
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        check(e.code == 400, f"status {e.code}")
        check("<Code>InvalidRequest</Code><Message>The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.</Message>" in text, text)
    ok("SigV2 presigned URL refused")

    url = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned.txt"}, ExpiresIn=300)
    body = b"put through a presigned URL"
    req = urllib.request.Request(url, data=body, method="PUT")
    with urllib.request.urlopen(req, context=ctx) as resp:
        check(resp.status == 200, f"presigned PUT status {resp.status}")
    check(client.get_object(Bucket=bucket, Key="presigned.txt")["Body"].read() == body, "presigned PUT stored")
    ok("presigned PUT")

    # A presigned PUT with an x-amz-* header it did not sign is refused.
    req = urllib.request.Request(url, data=body, method="PUT", headers={"x-amz-meta-evil": "1"})
    try:
        urllib.request.urlopen(req, context=ctx)
        check(False, "unsigned x-amz-meta header accepted")
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        check(e.code == 403, f"status {e.code}")
        check("<Code>AccessDenied</Code>" in text, text)
        check("<HeadersNotSigned>x-amz-meta-evil</HeadersNotSigned>" in text, text)
    ok("presigned PUT with an unsigned header refused")

    # A tampered presigned URL is refused.
    bad = url[:-1] + ("0" if url[-1] != "0" else "1")
    try:
        urllib.request.urlopen(urllib.request.Request(bad, data=body, method="PUT"), context=ctx)
        check(False, "tampered URL accepted")
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        check(e.code == 403 and "<Code>SignatureDoesNotMatch</Code>" in text, text)
    ok("tampered presigned URL refused")

    # Wrong secret: boto3 sees SignatureDoesNotMatch.
    wrong = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=AKID,
        aws_secret_access_key="not-the-secret",
        verify=ca_bundle if https else None,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    try:
        wrong.put_object(Bucket=bucket, Key="nope", Body=b"x")
        check(False, "wrong secret accepted")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "SignatureDoesNotMatch", str(e.response["Error"]))
    ok("wrong secret refused")

    # List, delete.
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="")["Contents"]]
    check(sorted(keys) == ["big.bin", "forty.bin", "presigned.txt", "small.txt"], f"keys {keys}")
    client.delete_object(Bucket=bucket, Key="presigned.txt")
    try:
        client.get_object(Bucket=bucket, Key="presigned.txt")
        check(False, "deleted object still there")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "NoSuchKey", str(e.response["Error"]))
    ok("list_objects_v2/delete_object")

    # The AWS CLI.
    env = dict(os.environ)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": AKID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.path.join(tmp, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "credentials"),
        }
    )
    with open(env["AWS_CONFIG_FILE"], "w") as f:
        f.write("[default]\ns3 =\n  addressing_style = path\n")
    aws = [os.path.join(os.path.dirname(sys.executable), "aws"), "--endpoint-url", endpoint]
    if https:
        aws += ["--ca-bundle", ca_bundle]

    def cli(*args):
        p = subprocess.run(aws + list(args), env=env, capture_output=True, text=True)
        check(p.returncode == 0, f"aws {' '.join(args)}: {p.returncode}\n{p.stdout}\n{p.stderr}")
        return p.stdout

    version = subprocess.run(aws[:1] + ["--version"], env=env, capture_output=True, text=True)
    print(version.stdout.strip() or version.stderr.strip(), flush=True)

    twelve = data(12 * MiB, "twelve")
    src = os.path.join(tmp, "twelve.bin")
    with open(src, "wb") as f:
        f.write(twelve)
    cli("s3", "cp", src, f"s3://{bucket}/cli/twelve.bin")
    back = os.path.join(tmp, "twelve.back")
    cli("s3", "cp", f"s3://{bucket}/cli/twelve.bin", back)
    with open(back, "rb") as f:
        check(f.read() == twelve, "aws s3 cp round trip")
    ok("aws s3 cp both ways")

    listing = cli("s3", "ls", f"s3://{bucket}/cli/")
    check("twelve.bin" in listing and str(len(twelve)) in listing, listing)
    buckets = cli("s3", "ls")
    check(bucket in buckets, buckets)
    ok("aws s3 ls")

    small_src = os.path.join(tmp, "c.txt")
    with open(small_src, "wb") as f:
        f.write(small)
    out = cli("s3api", "put-object", "--bucket", bucket, "--key", "crc32c.txt", "--body", small_src, "--checksum-algorithm", "CRC32C")
    check('"ETag"' in out, out)
    check(client.get_object(Bucket=bucket, Key="crc32c.txt")["Body"].read() == small, "CRC32C object stored")
    ok("aws s3api put-object --checksum-algorithm CRC32C")

print("all ok", flush=True)
