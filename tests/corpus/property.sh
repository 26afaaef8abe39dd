#!/bin/sh
#
# NAME
#	property.sh - property test of the repairs (property.py)
# DESCRIPTION
#	Random attachments in random mail-client wrappings (Thunderbird,
#	Outlook, Apple Mail, iOS Mail, a single 8bit/binary part): each is
#	repaired by htgate-check --fix, decodes byte for byte as attached,
#	and passes htgate-check again.  PROPERTY_N (default 200) messages,
#	PROPERTY_SEED (default 20261124).  TAP; skipped without python3.
# OWNERSHIP
#	tests/corpus.
#
. "${top_srcdir:?}/tests/corpus/pylib.sh"
corpus_python property.py "${PROPERTY_N:-200}" "${PROPERTY_SEED:-20261124}"
