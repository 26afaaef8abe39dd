#!/bin/sh
# check-conf-documented - every key the parser knows is documented in
# htgate.conf(5) and the page documents no key the parser does not know.
# One TAP line (tests/tap.sh) per key the parser knows; one "not ok" per
# documented key it does not know.
set -eu
. "$top_srcdir/tests/tap.sh"
keys=$("$top_builddir/tools/htgate-check" --list-config-keys)
page="$top_srcdir/doc/htgate.conf.5"
# Documented keys: the ".B key" line right after each ".TP".
documented=$(awk '/^\.TP/ { tp = 1; next } tp && /^\.B / { print $2 } { tp = 0 }' "$page" | sort -u)
for k in $(echo "$keys" | awk '{ print $2 }' | sort -u); do
	tap_check "key $k documented in htgate.conf(5)" sh -c 'echo "$1" | grep -qx "$2"' - "$documented" "$k"
done
for d in $documented; do
	echo "$keys" | awk '{ print $2 }' | grep -qx "$d" || tap_not_ok "htgate.conf(5) documents unknown key $d"
done
