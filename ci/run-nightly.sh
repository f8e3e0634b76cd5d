#!/usr/bin/env bash
# The nightly as a plain script (Jenkins, Buildkite, cron): the same steps as nightly-macos.yml.
#
#   ci/run-nightly.sh rigs/a.yaml [rigs/b.yaml ...] [-- <dextbench run arguments: scenario paths, --var N=v, --grep …>]
#
# The rigs are named before `--` only; the run's arguments take no --rig (it would skip that rig's
# check) and no --output (the script collects dextbench-report/ and test-results/).
#
# Run it from the project folder after `npm ci`. Several rigs of one `class:` make one run, so an
# infrastructure failure is retried on another good rig of the class.
#   1. validate the rig files (a typo is configuration: exit 1, not the rig's fault);
#   2. `rig check --refuse-bad` on each rig: a bad or maintenance rig is left out with its one line
#      (who set it, when, why); a good or unknown one runs its health check;
#   3. `run` on the rigs that passed, with infrastructure retries and every report;
#   4. the run appends itself to the history (DEXTBENCH_HISTORY: postgres://… or a folder; default
#      .dextbench/history). It must reach the history anyway to know which scenarios are quarantined,
#      so there is no separate `history import` (it would count the night twice);
#   5. `report --history -o report.html`;
#   6. everything worth keeping goes to $NIGHTLY_ARTIFACTS (default nightly-artifacts/): report.html,
#      junit.xml, the Playwright HTML report, results.json and each failing scenario's repro bundle.
#
# Exit codes:
#   0  green (quarantined failures and failures that passed on an infrastructure retry don't count)
#   1  failures that are not the rig's: product (or configuration, or a dextbench bug)
#   2  this script was called wrongly (an option before --, a rig file that is not there, --rig or
#      --output after --)
#   3  infrastructure only: a rig was bad, in maintenance or failed its check, or the failures left
#      are all infrastructure, and nothing failed on the product
#   130 interrupted
set -uo pipefail

usage() { echo "usage: ci/run-nightly.sh rigs/<rig>.yaml [more rigs...] [-- dextbench run arguments]" >&2; exit 2; }
rigs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do rigs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
run_args=("$@")
[ ${#rigs[@]} -gt 0 ] || usage
for rig in "${rigs[@]}"; do
  case $rig in -*) usage ;; esac
  [ -f "$rig" ] || { echo "nightly: no rig file $rig" >&2; exit 2; }
done

vars=()
for ((i = 0; i < ${#run_args[@]}; i++)); do
  case ${run_args[i]} in
    --var) vars+=(--var "${run_args[i + 1]:-}"); i=$((i + 1)) ;;
    --var=*) vars+=("${run_args[i]}") ;;
    # A rig named here would skip its check; a run elsewhere would leave nothing to collect.
    --rig | --rig=*) echo "nightly: name rigs before --, not with --rig after it: each is validated and checked before the run" >&2; exit 2 ;;
    --output | --output=*) echo "nightly: no --output: the script collects dextbench-report/ and test-results/ (NIGHTLY_ARTIFACTS says where they go)" >&2; exit 2 ;;
  esac
done

dextbench() { npx --no dextbench "$@"; }
artifacts=${NIGHTLY_ARTIFACTS:-nightly-artifacts}
# Last night's reports would be read as tonight's.
rm -rf dextbench-report test-results report.html "$artifacts"

rig_options=()
for rig in "${rigs[@]}"; do rig_options+=(--rig "$rig"); done
dextbench validate "${rig_options[@]}" "${vars[@]}" "${rigs[@]}" || { echo "nightly: the rig files do not validate (configuration; fix them)" >&2; exit 1; }

good=()
out=()
for rig in "${rigs[@]}"; do
  dextbench rig check --refuse-bad --rig "$rig" "${vars[@]}"
  case $? in
    0) good+=("$rig") ;;
    1) out+=("$rig") ;;
    130) exit 130 ;;
    *) echo "nightly: dextbench rig check --rig $rig could not run (configuration; see above)" >&2; exit 1 ;;
  esac
done
if [ ${#good[@]} -eq 0 ]; then
  echo "nightly: infrastructure: no rig is usable (${out[*]}); nothing ran" >&2
  exit 3
fi
[ ${#out[@]} -eq 0 ] || echo "nightly: running without ${out[*]} (out of service, see above)"

good_options=()
for rig in "${good[@]}"; do good_options+=(--rig "$rig"); done
dextbench run "${good_options[@]}" --infra-retries 2 --reporter list,junit,html,blob,json "${run_args[@]}"
run_exit=$?
[ "$run_exit" -ne 130 ] || exit 130

report_options=(--history)
[ "${DEXTBENCH_HISTORY:-}" != off ] || report_options=()
[ -f dextbench-report/results.json ] && { dextbench report "${report_options[@]}" -o report.html || echo "nightly: no report.html (see above)" >&2; }

mkdir -p "$artifacts"
for f in report.html dextbench-report/junit.xml dextbench-report/results.json dextbench-report/html; do
  [ -e "$f" ] && cp -R "$f" "$artifacts/"
done
if [ -d test-results ]; then
  while IFS= read -r -d '' bundle; do
    test_dir=$(dirname "${bundle#test-results/}")
    mkdir -p "$artifacts/repro/$test_dir"
    cp -R "$bundle" "$artifacts/repro/$test_dir/"
    echo "nightly: repro bundle kept: npx dextbench repro $artifacts/repro/$test_dir/repro [--hold]"
  done < <(find test-results -type d -name repro -print0)
fi

verdict=$(node "$(dirname "$0")/failure-kind.mjs" dextbench-report "$run_exit")
kind=$?
echo "nightly: $verdict"
if [ "$kind" -eq 0 ] && [ ${#out[@]} -gt 0 ]; then
  echo "nightly: infrastructure: the scenarios passed, but ${out[*]} did not run (out of service)" >&2
  exit 3
fi
exit "$kind"
