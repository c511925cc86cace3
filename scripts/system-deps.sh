#!/usr/bin/env bash
# Installs the Debian packages the project needs (CJK font; for tests also chromium,
# PostgreSQL and poppler). Skips what is present; never downloads a browser build.
set -euo pipefail
what="${1:-all}"
pkgs=()
need() { dpkg -s "$1" >/dev/null 2>&1 || pkgs+=("$1"); }
need fonts-noto-cjk
# OCR: rapidocr-onnxruntime pulls opencv-python, whose cv2 module links libGL and glib.
need libgl1
need libglib2.0-0
if [ "$what" = "all" ]; then
  need chromium
  need postgresql
  need poppler-utils
  need openssl  # TLS certificates for the SMTP and LDAP tests; the README webhook signature
  need slapd
  need ldap-utils
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${pkgs[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: need root (or sudo) to install: ${pkgs[*]}" >&2; exit 1
  fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
