#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short time (one after another, one job each).
# Fails (non-zero) if any target crashes, leaks, times out on an input or does not build.
#
#   bash fuzz/smoke.sh                       # 20 s per target
#   FUZZ_SECONDS=600 bash fuzz/smoke.sh      # the 10-minute campaign
#   bash fuzz/smoke.sh sts_form config_toml  # only some targets
#   FUZZ_SEED=0 FUZZ_SECONDS=300 bash fuzz/smoke.sh   # a random seed (default: 1)
#
# Needs cargo-fuzz (installed when absent) and a nightly toolchain, or stable with
# RUSTC_BOOTSTRAP=1 (used when no nightly is installed). Scratch corpora go to a temporary
# directory; the committed seeds in fuzz/corpus/<target>/ are only read. A crash leaves its
# input in fuzz/artifacts/<target>/ (ignored by git: minimise it with `cargo fuzz tmin` and keep
# it under fuzz/regressions/<target>/).
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
cd "$ROOT"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-${FUZZ_SMOKE_SECONDS:-20}}"
# libFuzzer's random seed: fixed by default, so that a run explores the same inputs in the
# same order (CI); FUZZ_SEED=0 lets libFuzzer pick one (campaigns).
SEED="${FUZZ_SEED:-1}"
RSS_LIMIT_MB="${FUZZ_RSS_LIMIT_MB:-2048}"
# A single input slower than this is a failure (a hang, or a quadratic blow-up).
INPUT_TIMEOUT="${FUZZ_INPUT_TIMEOUT:-60}"

ALL_TARGETS=(
    auth_header presigned_query canonical target_path iam_policy
    sts_form session_token sts_xml config_toml aws_chunked
)
if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=("${ALL_TARGETS[@]}")
fi

dict_for() {
    case "$1" in
        auth_header | presigned_query) echo "$FUZZ_DIR/dicts/request.dict" ;;
        config_toml) echo "$FUZZ_DIR/dicts/config.dict" ;;
        iam_policy) echo "$FUZZ_DIR/dicts/iam.dict" ;;
        *) echo "" ;;
    esac
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

CARGO=(cargo)
if rustup toolchain list 2>/dev/null | grep -q nightly; then
    CARGO=(cargo +nightly)
else
    export RUSTC_BOOTSTRAP=1
fi

start=$(date +%s)
echo "smoke: building ${#TARGETS[@]} targets (${CARGO[*]} fuzz build -a)" >&2
for t in "${TARGETS[@]}"; do
    "${CARGO[@]}" fuzz build -a --fuzz-dir "$FUZZ_DIR" "$t"
done

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/tower-sigv4-fuzz.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

failed=()
for t in "${TARGETS[@]}"; do
    mkdir -p "$SCRATCH/$t"
    args=(
        "-max_total_time=$SECONDS_PER_TARGET"
        "-seed=$SEED"
        "-rss_limit_mb=$RSS_LIMIT_MB"
        "-timeout=$INPUT_TIMEOUT"
        "-print_final_stats=1"
    )
    dict="$(dict_for "$t")"
    if [ -n "$dict" ]; then
        args+=("-dict=$dict")
    fi
    log="$SCRATCH/$t.log"
    echo "smoke: $t for ${SECONDS_PER_TARGET}s" >&2
    inputs=("$SCRATCH/$t")
    for dir in "$FUZZ_DIR/corpus/$t" "$FUZZ_DIR/regressions/$t"; do
        if [ -d "$dir" ]; then
            inputs+=("$dir")
        fi
    done
    if "${CARGO[@]}" fuzz run -a --fuzz-dir "$FUZZ_DIR" "$t" "${inputs[@]}" \
        -- "${args[@]}" >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
        echo "smoke: $t ok, ${runs:-?} executions" >&2
    else
        echo "smoke: $t FAILED; the end of its log:" >&2
        tail -n 60 "$log" >&2
        failed+=("$t")
    fi
done

echo "smoke: done in $(($(date +%s) - start))s" >&2
echo "smoke: $((${#TARGETS[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "smoke: failing targets: ${failed[*]}" >&2
    exit 1
fi
