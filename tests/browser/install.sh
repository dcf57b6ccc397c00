#!/usr/bin/env bash
# Installs Debian's chromium for the report's browser test (tests/test_report_browser.cpp)
# when it is missing; a test-only dependency, so tools/test.sh runs this, not tools/setup.sh.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "browser: installing chromium"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
