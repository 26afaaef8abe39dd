#!/bin/sh
#
# NAME
#	repaired.sh - repaired corpus messages deliver the file byte for byte
# DESCRIPTION
#	Runs repaired.py (see there): each corpus message expected to be
#	repaired is written with htgate-check --fix -o, its decoded file
#	compared with the original attachment as Python's email package
#	reads it, and the result judged again.  TAP; skipped without python3.
# OWNERSHIP
#	tests/corpus.
#
. "${top_srcdir:?}/tests/corpus/pylib.sh"
corpus_python repaired.py
