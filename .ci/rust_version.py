#!/usr/bin/env python3
"""Checks that each workspace package's `rust-version` is no lower than the highest
`rust-version` among the locked normal dependencies it builds with (all features), read from
`cargo metadata`. Older compilers cannot be installed here, so this is the check we can make."""
import json
import subprocess
import sys


def version(v):
    return tuple(int(p) for p in (v or "0").split(".")) + (0,) * (3 - len((v or "0").split(".")))


meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
failed = False
for member in meta["workspace_members"]:
    package = packages[member]
    declared = package.get("rust_version")
    # Normal dependencies, transitively (build dependencies of dependencies included, as they
    # compile with the same toolchain; dev-dependencies left out).
    seen, stack = set(), [member]
    while stack:
        node = nodes[stack.pop()]
        for dep in node["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds <= {"dev"}:
                continue
            if dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                stack.append(dep["pkg"])
    highest = max(
        ((packages[d].get("rust_version"), packages[d]["name"]) for d in seen if packages[d].get("rust_version")),
        key=lambda x: version(x[0]),
        default=(None, None),
    )
    ok = declared is not None and (highest[0] is None or version(declared) >= version(highest[0]))
    print(f"{package['name']}: rust-version {declared}; highest among its dependencies: {highest[0]} ({highest[1]})")
    failed |= not ok
sys.exit(1 if failed else 0)
