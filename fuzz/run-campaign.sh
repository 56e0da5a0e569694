#!/usr/bin/env bash
# Reruns the fuzzing campaign: each target in turn, in one process on one core (libFuzzer's
# default; -jobs=1 would only add a supervisor process and a fuzz-0.log in the working directory),
# for a fixed number of executions, then prints the execution counts.
#
#   fuzz/run-campaign.sh                 # the default budget (10.5 million executions in all)
#   SCALE=0.01 fuzz/run-campaign.sh      # a quick smoke run (1% of the budget)
#   SANITIZER=address fuzz/run-campaign.sh   # with AddressSanitizer (slower; default none, as
#                                            # the crate forbids unsafe code)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). On a stable toolchain it runs with
# RUSTC_BOOTSTRAP=1, which lets stable rustc accept the -Z flags cargo-fuzz passes.
# New inputs go to fuzz/target/corpus/<target> (seeded from the committed fuzz/corpus/<target>);
# crashes go to fuzz/artifacts/<target>/. Logs: fuzz/target/campaign/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
SANITIZER=${SANITIZER:-none}
SCALE=${SCALE:-1}
# target:executions
BUDGET=(decode_response:3000000 decode_call:3000000 json_args:2000000 server_request:2500000)

cargo fuzz build -s "$SANITIZER"
mkdir -p fuzz/target/campaign
total=0
summary=()
for entry in "${BUDGET[@]}"; do
    target=${entry%%:*}
    runs=$(awk -v r="${entry##*:}" -v s="$SCALE" 'BEGIN { printf "%d", r * s }')
    work=fuzz/target/corpus/$target
    mkdir -p "$work" "fuzz/artifacts/$target"
    log=fuzz/target/campaign/$target.log
    echo "== $target: $runs executions (log: $log)"
    status=0
    cargo fuzz run -s "$SANITIZER" "$target" "$work" "fuzz/corpus/$target" -- \
        -runs="$runs" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=512 \
        -max_len=12000 -print_final_stats=1 >"$log" 2>&1 || status=$?
    done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | awk '{print $5}' | tail -1)
    done_runs=${done_runs:-0}
    total=$((total + done_runs))
    if [ "$status" -ne 0 ]; then
        summary+=("$target: FAILED after $done_runs executions (exit $status); see $log and fuzz/artifacts/$target")
    else
        summary+=("$target: $done_runs executions in ${secs:-?} s, corpus $(ls "$work" | wc -l) files")
    fi
done
echo
echo "Campaign (sanitizer: $SANITIZER)"
printf '  %s\n' "${summary[@]}"
echo "  total: $total executions"
