#!/bin/sh
# Install the Debian 12 packages needed to build and test (when run as root),
# or say what is missing (otherwise). Usage: tools/deps.sh [--test]
set -eu
pkgs="build-essential autoconf automake libtool pkg-config
libdb5.3-dev libssl-dev openssl libsasl2-dev sasl2-bin libsasl2-modules libsasl2-modules-db
libicu-dev uuid-dev libcunit1-dev zlib1g-dev libedit-dev python3"
if [ "${1:-}" = "--test" ]; then
    pkgs="$pkgs clang libclang-rt-14-dev curl procps cyrus-imapd cyrus-murder cyrus-admin cyrus-clients cyrus-pop3d postfix swaks mutt isync fetchmail libcyrus-imap-perl"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    # postfix is only a test client here: no system-wide configuration
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq >/dev/null
    apt-get install -y -qq $missing >/dev/null
else
    echo "deps: missing Debian packages:$missing"
    echo "deps: run as root: apt-get install -y$missing"
    exit 1
fi
