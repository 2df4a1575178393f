#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Run from the repository root: `python3 fuzz/gen_seeds.py`. The seeds are committed; this
script only says where they came from (the SigV4 test suite's signed requests in
tests/data/sigv4-test-suite/, the policies of tests/it/iam_*.rs, the gateway's demo
configuration gateway/demo.toml, STS forms after src/sts/tests/wire.rs) and can rebuild them.
Standard library only.

`python3 fuzz/gen_seeds.py --out DIR` writes the corpora under DIR instead (to compare with the
committed ones). Either way the script fails when a source it reads is missing or yields
nothing, and when it would not rewrite a seed that the committed corpus holds (a test file that
moved must not silently shrink the seed set).
"""

import hashlib
import hmac
import os
import re
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITE = os.path.join(ROOT, "tests", "data", "sigv4-test-suite")
# The library's integration tests (one binary, tests/it/) and the gateway's demo configuration.
IAM_TESTS = os.path.join(ROOT, "tests", "it")
DEMO_TOML = os.path.join(ROOT, "gateway", "demo.toml")
COMMITTED = os.path.join(ROOT, "fuzz", "corpus")
CORPUS = COMMITTED
# Seeds written, per target: checked against the committed corpus at the end.
WRITTEN = {}

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def write(target, name, data):
    WRITTEN.setdefault(target, set()).add(name)
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- auth_header and presigned_query: the test suite's signed requests, raw ---------------


def suite_requests():
    for folder in ("v4", "smithy-rs-extra"):
        base = os.path.join(SUITE, folder)
        for case in sorted(os.listdir(base)):
            path = os.path.join(base, case)
            if not os.path.isdir(path):
                continue
            context = ""
            cpath = os.path.join(path, "context.json")
            if os.path.exists(cpath):
                context = read(cpath).decode()
            unnormalized = '"normalize": false' in context
            for kind in ("header", "query"):
                f = os.path.join(path, f"{kind}-signed-request.txt")
                if os.path.exists(f):
                    yield kind, f"{folder}-{case}", read(f), unnormalized
    legacy = os.path.join(SUITE, "legacy-aws-sig-v4-test-suite")
    for case in sorted(os.listdir(legacy)):
        f = os.path.join(legacy, case, f"{case}.sreq")
        if os.path.exists(f):
            yield "header", f"legacy-{case}", read(f), False


def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(string_to_sign, date, region="us-east-1", service="service"):
    k = sign(("AWS4" + SECRET).encode(), date)
    k = sign(k, region)
    k = sign(k, service)
    k = sign(k, "aws4_request")
    return hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest()


def enc(s):
    return urllib.parse.quote(s, safe="-_.~")


def s3_presigned(method, path, extra_query, amz_date="20150830T123600Z", expires=3600):
    """A presigned request valid under VerifierConfig::s3() (service `service`)."""
    date = amz_date[:8]
    params = list(extra_query) + [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", f"{AKID}/{date}/us-east-1/service/aws4_request"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    canon_q = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in params))
    creq = "\n".join(
        [method, path, canon_q, "host:example.amazonaws.com", "", "host", "UNSIGNED-PAYLOAD"]
    )
    sts = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            f"{date}/us-east-1/service/aws4_request",
            hashlib.sha256(creq.encode()).hexdigest(),
        ]
    )
    sig = signature(sts, date)
    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in params) + f"&X-Amz-Signature={sig}"
    return f"{method} {path}?{query} HTTP/1.1\nHost:example.amazonaws.com\n\n"


def request_seeds():
    requests = list(suite_requests())
    require(requests, f"no signed request found in {SUITE}")
    for kind, name, raw, unnormalized in requests:
        opts = "nonorm" if unnormalized else ""
        if kind == "header":
            write("auth_header", name, (f"@{opts}\n".encode() if opts else b"") + raw)
        else:
            write("presigned_query", name, f"@std {opts}\n".encode() + raw)
            # The same URL under S3's rules (single encoding, unsigned payload).
            write("presigned_query", name + "-s3", raw)
    vanilla = read(os.path.join(SUITE, "v4", "get-vanilla", "header-signed-request.txt")).decode()
    # A Date header instead of X-Amz-Date; a trusted forwarded host; other keys; other clocks.
    write(
        "auth_header",
        "hand-http-date",
        vanilla.replace("X-Amz-Date:20150830T123600Z", "Date:Sun, 30 Aug 2015 12:36:00 GMT").replace(
            "SignedHeaders=host;x-amz-date", "SignedHeaders=date;host"
        ),
    )
    write(
        "auth_header",
        "hand-forwarded",
        "@fwd\n"
        + vanilla.replace(
            "Host:example.amazonaws.com",
            "Host:internal:8080\nX-Forwarded-Host:example.amazonaws.com\nForwarded:for=1.2.3.4;host=example.amazonaws.com",
        ),
    )
    write("auth_header", "hand-expired-key", vanilla.replace("Credential=AKIDEXAMPLE", "Credential=AKIDEXPIRED"))
    write("auth_header", "hand-provider-down", vanilla.replace("Credential=AKIDEXAMPLE", "Credential=AKIDDOWN"))
    write("auth_header", "hand-late-clock", "@1440938600\n" + vanilla)
    write("auth_header", "hand-wrong-scope", vanilla.replace("/us-east-1/service/", "/eu-west-1/s3/"))
    write(
        "auth_header",
        "hand-unsigned-payload",
        vanilla.replace("X-Amz-Date:", "x-amz-content-sha256:UNSIGNED-PAYLOAD\nX-Amz-Date:").replace(
            "SignedHeaders=host;x-amz-date", "SignedHeaders=host;x-amz-content-sha256;x-amz-date"
        ),
    )
    write("auth_header", "hand-two-authorizations", vanilla + "Authorization:AWS4-HMAC-SHA256 Credential=x\n")
    # Valid S3 presigned URLs.
    write("presigned_query", "s3-object", s3_presigned("GET", "/bucket/a%20key/..%2F~x", [("versionId", "3")]))
    write("presigned_query", "s3-put", s3_presigned("PUT", "/bucket/k", [("uploads", ""), ("partNumber", "1")]))
    write("presigned_query", "s3-expired", "@1441000000\n" + s3_presigned("GET", "/b/k", [], expires=60))
    write(
        "presigned_query",
        "s3-token",
        s3_presigned("GET", "/b/k", [("X-Amz-Security-Token", "FQoGZXIvYXdzE+/=")]),
    )


# --- target_path ------------------------------------------------------------------------

PATHS = [
    "/", "", "*", "admin", "/admin", "//admin//", "/x/../admin", "/x\\..\\admin", "/\\admin",
    "/x%2F..%2Fadmin", "/%2Fadmin", "/x/..%2fadmin", "/x%5c..%5cadmin", "/%2561dmin",
    "/%61dmin", "/%2e%2e/admin", "/x/%2E%2E%2Fadmin", "/a b", "/a;b", "/..;/admin",
    "/a%", "/a%2g", "/a%00", "/a%7f", "/%C0%AE%C0%AE/admin", "/%FF", "/caf%c3%a9",
    "/a%2cb", "/a:b@c!$&'()*+,=", "/./.././a/b/c/./../../g", "/a/%2E/b", "/.%2F./x",
    "/x%2F.%2Fy", "/%7Euser/%7e", "/a\tb", "/é", "/a/b/",
]


def path_seeds():
    for i, p in enumerate(PATHS):
        write("target_path", f"path-{i:02}", p)


# --- iam_policy -------------------------------------------------------------------------

RAW_STRING = re.compile(r'r#"(.*?)"#', re.S)

CONTEXTS = [
    "",
    "user arn:aws:iam::123456789012:user/alice\nexecute-api:Invoke\n"
    "arn:aws:execute-api:us-east-1:123456789012:apiid/prod/GET/alice/notes\n"
    "aws:Referer=https://example.com/\n@ip=10.1.2.3\n@secure=true\n@time=1790000000\n@tag=team=blue",
    "role arn:aws:iam::123456789012:role/path/Reader s1\nsts:AssumeRole\n"
    "arn:aws:iam::123456789012:role/path/Reader\nsts:ExternalId=ext-1\nsts:RoleSessionName=s1\n"
    "aws:TagKeys=[team|project]\n@issued=1789990000\n@mfa=false",
    "root 210987654321\nexecute-api:Invoke\narn:aws:execute-api:us-east-1:123456789012:apiid/prod/POST/admin\n"
    "@ip=2001:db8::1\naws:SourceVpc=vpc-1",
]


def iam_seeds():
    policies = []
    tests = IAM_TESTS
    files = [f for f in sorted(os.listdir(tests)) if f.startswith("iam_") and f.endswith(".rs")]
    require(files, f"no iam_*.rs in {tests}")
    for f in files:
        text = read(os.path.join(tests, f)).decode()
        for m in RAW_STRING.finditer(text):
            s = m.group(1)
            if "{{" in s:
                continue  # a format! template
            if '"Statement"' in s:
                policies.append(s)
            elif s.startswith("{") and ('"Condition"' not in s) and re.match(r'^\{"(For\w+:)?\w+":', s):
                # A condition block (iam_conditions*.rs): wrap it as allow_if does.
                policies.append(
                    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
                    f'"Resource":"*","Condition":{s}}}]}}'
                )
    require(policies, f"no policy found in {tests}/iam_*.rs")
    demo = read(DEMO_TOML).decode()
    demo_policies = re.findall(r"'''\s*(\{.*?\})\s*'''", demo, re.S)
    require(demo_policies, f"no policy found in {DEMO_TOML}")
    policies += demo_policies
    seen = set()
    unique = [p for p in policies if not (p in seen or seen.add(p))]
    for i, p in enumerate(unique):
        context = CONTEXTS[i % len(CONTEXTS)]
        write("iam_policy", f"policy-{i:03}", p + ("\0" + context if context else ""))


# --- sts_form ---------------------------------------------------------------------------

ROLE = "arn:aws:iam::123456789012:role/demo"


def form(pairs):
    return urllib.parse.urlencode(pairs)


def sts_seeds():
    base = [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", ROLE), ("RoleSessionName", "TestAR")]
    forms = {
        "minimal": base,
        "all-fields": base
        + [
            ("DurationSeconds", "43200"),
            ("ExternalId", "ext:id/1"),
            ("Policy", '{"Version":"2012-10-17","Statement":[]}'),
            ("Tags.member.2.Key", "team"),
            ("Tags.member.2.Value", "blue"),
            ("Tags.member.1.Key", "Project"),
            ("Tags.member.1.Value", "Été 2026"),
            ("TransitiveTagKeys.member.1", "team"),
            ("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
            ("SourceIdentity", "alice@example.com"),
        ],
        "caller-identity": [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        "old-version": [("Action", "GetCallerIdentity"), ("Version", "2010-01-01")],
        "no-version": [("Version", "")],
        "bad-duration": base + [("DurationSeconds", "junk")],
        "short-duration": base + [("DurationSeconds", "899")],
        "bad-session": [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", "x"), ("RoleSessionName", "a b")],
        "dup-tags": base + [("Tags.member.1.Key", "k"), ("Tags.member.1.Value", "1"), ("Tags.member.2.Key", "K"), ("Tags.member.2.Value", "2")],
        "transitive-missing": base + [("TransitiveTagKeys.member.1", "nope")],
        "list-index": base + [("Tags.member.01.Key", "k"), ("Tags.member.0.Key", "k"), ("PolicyArns.member.11.arn", ROLE)],
    }
    for name, pairs in forms.items():
        write("sts_form", name, form(pairs))
    write(
        "sts_form",
        "plus-and-first-wins",
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo"
        "&RoleSessionName=first&RoleSessionName=second&Policy=%7B%22a%22%3A+1%7D&Bogus=1&DurationSeconds=900"
        "&DurationSeconds=junk",
    )


# --- config_toml ------------------------------------------------------------------------

HEAD = 'listen = "127.0.0.1:8080"\n[api]\naccount = "111111111111"\napi_id = "apiid"\n'
ALICE = "arn:aws:iam::111111111111:user/alice"
LONG_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY"


def config_seeds():
    write("config_toml", "demo", read(DEMO_TOML))
    user = f'{HEAD}[[user]]\narn = "{ALICE}"\naccess_keys = [{{keys}}]\n'
    seeds = {
        "doc-example": HEAD
        + f'[[user]]\narn = "{ALICE}"\naccess_keys = [{{ id = "AKIAALICE", secret = "s3cret" }}]\n'
        "policies = ['{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"execute-api:Invoke\",\"Resource\":\"execute-api:/*\"}]}']\n",
        "secret-unclosed": user.replace("{keys}", f'{{ id = "AKIAALICE", secret = "{LONG_SECRET} }}'),
        "secret-integer": user.replace("{keys}", '{ id = "AKIAALICE", secret = 12345678901234567890 }'),
        "secret-array": user.replace("{keys}", f'{{ id = "AKIAALICE", secret = ["{LONG_SECRET}"] }}'),
        "secret-float": user.replace("{keys}", '{ id = "AKIAALICE", secret = 31415.9265 }'),
        "secret-literal": user.replace("{keys}", f"{{ id = \"AKIAALICE\", secret = '{LONG_SECRET}' }}"),
        "secret-table": f'{HEAD}[[user]]\narn = "{ALICE}"\n[[user.access_keys]]\nid = "AKIAALICE"\nsecret = """\n{LONG_SECRET}"""\nactive = "yes"\n',
        "tag-secret": f'{HEAD}[[user]]\narn = "{ALICE}"\ntags = {{ my_secret = 12345678901234567890 }}\n',
        "token-key-bad": f'{HEAD}[sts]\ntoken_keys = [{{ id = "k1", secret = "{LONG_SECRET}" }}]\n',
        "token-key-good": f'{HEAD}[sts]\ntoken_keys = [{{ id = "k1", secret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" }}]\n',
        "unknown-key": HEAD + "[auth]\nclock_skew_seconds = 300\nsecrets = 1\n",
        "empty-secret": user.replace("{keys}", '{ id = "AKIAALICE", secret = "" }'),
        "full": HEAD
        + "[auth]\nclock_skew_seconds = 300\nmax_body_bytes = 10485760\nallow_unsigned_payload = true\n"
        'trusted_proxies = ["10.0.0.0/8"]\n[metrics]\nlisten = "127.0.0.1:9090"\n[proxy]\nunderscore_headers = "drop"\n'
        f'[[role]]\narn = "arn:aws:iam::111111111111:role/Invoker"\n'
        "trust_policy = '''{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" + ALICE + "\"},\"Action\":\"sts:AssumeRole\"}]}'''\n"
        "max_session_seconds = 3600\n",
    }
    for name, text in seeds.items():
        write("config_toml", name, text)


# --- targets whose input is `arbitrary`-structured: a few byte strings ---------------------


def structured_seeds():
    for target in ("canonical", "session_token", "sts_xml"):
        write(target, "zeros-64", bytes(64))
        write(target, "ones-64", bytes([1] * 64))
        write(target, "ascii", b"GET /a/b?c=d&e host:example.amazonaws.com " * 4)
        write(target, "mixed", bytes(range(256)))


def require(found, why):
    if not found:
        sys.exit(f"gen_seeds: {why}")


def is_libfuzzer_name(name):
    """A name libFuzzer gives the inputs it saves (the SHA-1 of the input, 40 hex digits)."""
    return re.fullmatch(r"[0-9a-f]{40}", name) is not None


def check_against_committed():
    """Fails if a committed seed was not written again: its source moved or shrank."""
    missing = []
    for t in sorted(os.listdir(COMMITTED)):
        d = os.path.join(COMMITTED, t)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not is_libfuzzer_name(name) and name not in WRITTEN.get(t, set()):
                missing.append(f"{t}/{name}")
    if missing:
        sys.exit(
            f"gen_seeds: {len(missing)} committed seeds were not regenerated "
            f"(a source moved or lost cases?): {' '.join(missing[:20])}"
        )


def main():
    global CORPUS
    args = sys.argv[1:]
    if args[:1] == ["--out"] and len(args) == 2:
        CORPUS = os.path.abspath(args[1])
    elif args:
        sys.exit("usage: python3 fuzz/gen_seeds.py [--out DIR]")
    request_seeds()
    path_seeds()
    iam_seeds()
    sts_seeds()
    config_seeds()
    structured_seeds()
    for t in sorted(WRITTEN):
        print(f"{t}: {len(WRITTEN[t])} seeds", file=sys.stderr)
    check_against_committed()


if __name__ == "__main__":
    main()
