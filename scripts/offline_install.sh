#!/bin/sh
# Install recurrence inside a trusted research environment (TRE) that has no internet.
#
#   sh scripts/offline_install.sh prepare   # OUTSIDE, with internet, in a checkout of recurrence:
#                                           # every wheel the install needs, into ./wheelhouse
#   sh scripts/offline_install.sh install   # INSIDE, no internet, beside the copied wheelhouse:
#                                           # install from ./wheelhouse only, into ./.venv
#
# The outside machine must match the TRE: same operating system and CPU (Linux x86_64 in most
# TREs) and the same Python minor version (3.11 or later), because wheels are built for one
# platform. docs/secure_environments.md says what to copy in, where outputs go and how to check
# the install never reaches the network. The commands below are quoted in that document (a test
# keeps the two the same).
set -eu

case "${1:-}" in
prepare)
    # The project's wheel and a wheel of every dependency, at the versions pip resolves today.
    python -m pip wheel --wheel-dir wheelhouse .
    ;;
install)
    python -m venv .venv
    # --no-index: pip never contacts a package index; --find-links: the copied folder only.
    .venv/bin/python -m pip install --no-index --find-links wheelhouse recurrence
    ;;
*)
    echo "usage: sh scripts/offline_install.sh prepare|install" >&2
    exit 2
    ;;
esac
