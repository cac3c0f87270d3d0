#!/bin/sh
# private-etc.sh DIR CMD [ARGS...]: runs CMD in a private mount namespace
# where DIR/etc/resolv.conf and DIR/etc/hosts (lib.sh's private_etc) are
# bind-mounted over /etc/resolv.conf and /etc/hosts, and the extra
# "SRC:DST" pairs in $PRIVATE_MOUNTS over DST. Each step execs the next,
# so the PID of this script becomes CMD's.
d=$1
shift
exec unshare -m sh -c '
d=$0
mount --bind "$d/etc/resolv.conf" /etc/resolv.conf || exit 1
mount --bind "$d/etc/hosts" /etc/hosts || exit 1
for m in $PRIVATE_MOUNTS; do mount --bind "${m%%:*}" "${m#*:}" || exit 1; done
exec "$@"' "$d" "$@"
