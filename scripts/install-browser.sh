#!/usr/bin/env bash
# Debian's Chromium and a CJK font for the browser test (tests/web/test_browser.py)
# and for Chinese labels in the charts. Idempotent: installs only what is missing.
# Playwright's own browser download is never used.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" \
    || missing+=(fonts-noto-cjk)

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-browser: chromium and fonts-noto-cjk already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: need ${missing[*]} but apt-get is not available" >&2
    exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
        echo "install-browser: need root (or sudo) to install ${missing[*]}" >&2
        exit 1
    fi
fi

echo "install-browser: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
