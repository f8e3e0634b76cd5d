#!/usr/bin/env bash
# Nightly run on a Mac rig: run the scenarios with retries and keep every report.
# Usage: ci/run-nightly.sh rigs/my-desk.yaml [scenario paths...]
set -euo pipefail
rig=${1:?usage: ci/run-nightly.sh rigs/<rig>.yaml [scenario paths...]}
shift
npm ci --no-audit --no-fund
npx dextbench validate --rig "$rig"
status=0
npx dextbench run --rig "$rig" --retries 2 --reporter list,junit,html,blob "$@" || status=$?
echo "reports: dextbench-report/ (junit.xml, html/, blob/), artifacts: test-results/"
exit "$status"
