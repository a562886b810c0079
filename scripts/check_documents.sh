#!/usr/bin/env bash
# Accessibility and print checks of the default run's published documents (CI runs this).
#
# Needs Debian's chromium and poppler-utils and npm; installs them when run as root with
# apt-get. If they cannot be had, says so and stops without failing (the checks are then
# not made); if they run, any axe-core violation, text-spacing overflow or table column
# missing from the A4 print fails.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v pdftotext >/dev/null || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${need[*]} for the document checks ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null) \
      || { echo "Document checks not made: could not install ${need[*]}."; exit 0; }
  else
    echo "Document checks not made: install ${need[*]} (apt-get install ${need[*]})."; exit 0
  fi
fi
command -v npm >/dev/null || { echo "Document checks not made: npm is not installed."; exit 0; }
(cd scripts/a11y && npm ci --no-audit --no-fund --silent) || { echo "Document checks not made: npm ci failed."; exit 0; }

make run >/tmp/strategic-assessment-default-run.log 2>&1 || { tail -30 /tmp/strategic-assessment-default-run.log; exit 1; }
node scripts/a11y/check_documents.mjs outputs/south-gloucestershire-2020-12
