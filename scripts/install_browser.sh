#!/usr/bin/env bash
# Debian's Chromium for the Playwright browser tests (never a downloaded browser build).
# Idempotent and quiet: does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
"$(dirname "$0")/apt_install.sh" chromium fonts-dejavu-core
test -x /usr/bin/chromium
