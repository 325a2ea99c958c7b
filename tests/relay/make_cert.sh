#!/usr/bin/env bash
# Usage: tests/relay/make_cert.sh DIR
# Writes DIR/cert.pem and DIR/key.pem: a self-signed certificate (RSA 2048, 10 years, CA:TRUE so it can
# also be passed as the trust anchor) for subjectAltName DNS:localhost, IP:127.0.0.1. Idempotent: an
# existing pair is kept if the key matches the cert and the cert is valid for at least another day.
# Clients trust it with: node --ca/NODE_EXTRA_CA_CERTS=DIR/cert.pem; Beast/OpenSSL: load_verify_file(cert.pem).
set -euo pipefail
dir=${1:?usage: make_cert.sh DIR}
mkdir -p "$dir"
cert="$dir/cert.pem" key="$dir/key.pem"
if [ -s "$cert" ] && [ -s "$key" ] && openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null 2>&1 &&
   [ "$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null)" == "$(openssl pkey -in "$key" -pubout 2>/dev/null)" ]; then
  exit 0
fi
tmp=$(mktemp -d "$dir/.make_cert.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj /CN=localhost \
  -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' -addext 'basicConstraints=critical,CA:TRUE' \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
chmod 600 "$tmp/key.pem"
mv -f "$tmp/key.pem" "$key"
mv -f "$tmp/cert.pem" "$cert"
