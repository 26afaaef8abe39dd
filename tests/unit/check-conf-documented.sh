#!/bin/sh
# check-conf-documented - every key the parser knows is documented in
# htgate.conf(5) and the page documents no key the parser does not know.
set -eu
keys=$("$top_builddir/tools/htgate-check" --list-config-keys)
page="$top_srcdir/doc/htgate.conf.5"
# Documented keys: the ".B key" line right after each ".TP".
documented=$(awk '/^\.TP/ { tp = 1; next } tp && /^\.B / { print $2 } { tp = 0 }' "$page" | sort -u)
rc=0
for k in $(echo "$keys" | awk '{ print $2 }' | sort -u); do
	echo "$documented" | grep -qx "$k" || { echo "undocumented key: $k"; rc=1; }
done
for d in $documented; do
	echo "$keys" | awk '{ print $2 }' | grep -qx "$d" || { echo "documented but unknown key: $d"; rc=1; }
done
[ $rc -eq 0 ] && echo "ok: $(echo "$keys" | wc -l) keys documented"
exit $rc
