#!/usr/bin/env bash
# with_hosts.sh HOSTS_FILE CMD [ARGS...]: runs CMD in a private mount namespace (and a user namespace, so
# no root is needed where unprivileged user namespaces are allowed, as on Debian) in which /etc/hosts is
# HOSTS_FILE, bind-mounted. The machine's /etc/hosts is untouched, and CMD's own resolver (glibc
# getaddrinfo, "files" first in nsswitch.conf) resolves the names HOSTS_FILE lists: a test can give a
# real DNS name a loopback address without a DNS server. Each step execs, so CMD keeps this PID and
# receives the signals sent to it.
set -eu
[ $# -ge 2 ] || { echo "usage: with_hosts.sh HOSTS_FILE CMD [ARGS...]" >&2; exit 2; }
hosts=$(realpath "$1")
shift
exec unshare --mount --map-root-user sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts" "$@"
