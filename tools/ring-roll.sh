#!/usr/bin/env bash
# Times a rolling upgrade around a ring of real SmpNode processes on loopback (issue 22, claims 28-32 and 46): each
# node is its own process with its own NVS image files; release 2 is rolled node after node over TL1 (ACT-USER,
# COPY-RFILE, APPLY ACT, APPLY ACPT, CANC-USER). Prints a markdown table of start and roll times per ring size.
#
#   tools/ring-roll.sh            # N = 1, 2, 4, 8
#   tools/ring-roll.sh 1 2 4 8 16 # any sizes
#
# It runs SmpNodeRingTests.RollTimeGrowsWithTheRingSize with FLASH_RING_SIZES, so the roll is the tested one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sizes="${*:-1 2 4 8}"
report="$(mktemp /tmp/flash-ring-report.XXXXXX)"
trap 'rm -f "$report"' EXIT
dotnet build "$root/samples/SmpNode" -v quiet -nologo >/dev/null
dotnet build "$root/tests/Flash.Svm.Management.Tests" -v quiet -nologo >/dev/null
FLASH_RING_SIZES="$(echo "$sizes" | tr ' ' ',')" FLASH_RING_REPORT="$report" \
  "$root/tests/Flash.Svm.Management.Tests/bin/Debug/net10.0/Flash.Svm.Management.Tests" \
  -method 'Flash.Svm.Management.Tests.Tl1.SmpNodeRingTests.RollTimeGrowsWithTheRingSize' >/dev/null
echo "Rolling upgrade to release 2 over TL1, SmpNode processes on loopback ($(nproc) cores):"
cat "$report"
