#!/bin/sh
# Install the Debian packages listed in $1 (one per line, # comments allowed), only if missing.
set -eu
list="$1"
missing=""
for pkg in $(grep -v '^\s*#' "$list" | tr -s ' \n' ' '); do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages:$missing" >&2
    echo "hint: run 'sudo apt-get install -y$missing' (or 'sudo make system-deps')" >&2
    exit 1
fi
echo "installing Debian packages:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
