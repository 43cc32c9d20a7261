#!/bin/sh
# make check: the conformance corpus in the shared material, through tests/conformance.
set -e
exec "${XV_BUILDDIR:-.}/tests/conformance" "${XV_SHARED_DIR:-../shared}/conformance"
