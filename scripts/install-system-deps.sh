#!/usr/bin/env bash
# Debian packages the test suite needs: chromium (browser tests), bubblewrap (code sandbox),
# redis-server and postgresql (real servers; CI machines already run them).
set -euo pipefail
needed=()
command -v chromium >/dev/null 2>&1 || needed+=(chromium)
command -v bwrap >/dev/null 2>&1 || needed+=(bubblewrap)
command -v redis-server >/dev/null 2>&1 || needed+=(redis-server)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || needed+=(postgresql)
if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
echo "installing system packages: ${needed[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}"
