#!/usr/bin/env bash
# The report tests open the HTML in headless Chromium and read the PDF with poppler's
# pdftoppm/pdftotext: Debian packages, not Python ones. This step of the README's test command
# installs them when they are missing and we may (root with apt-get), and says so; otherwise it
# prints the command to run and those tests skip (or fail where CI is set). The tests themselves
# never install anything.
set -euo pipefail
packages=(chromium poppler-utils)
missing() {
    [[ -x /usr/bin/chromium ]] || return 0
    command -v pdftoppm >/dev/null || return 0
    command -v pdftotext >/dev/null || return 0
    return 1
}
if ! missing; then
    exit 0
fi
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "tests/system_tools.sh: installing ${packages[*]} with apt-get (for the report tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
    echo "tests/system_tools.sh: the report's browser and PDF tests need ${packages[*]}:" \
        "run 'sudo apt-get install -y --no-install-recommends ${packages[*]}' (they skip until then)"
fi
