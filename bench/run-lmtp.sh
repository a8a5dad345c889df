#!/bin/sh
# Side-by-side LMTP delivery and POP3 RETR benchmark: Debian's Cyrus 3.6
# (bench/cyruspeer.py, single) and our server (one backend node started by
# tests/backend.py), both driven by bench/lmtpbench.py in the same run.
# Prints a table with ratios (ours/cyrus) and appends it, with the date,
# the commands and the machine, to doc/benchmarks.md.
#
# Usage: bench/run-lmtp.sh [--messages N] [--note TEXT] [--no-doc]
#                          [lmtpbench options...]
# Env:   CYRUS_BUILD   our build tree (default: build/), needs bin/lmtpd
# Needs root (Cyrus master drops to user cyrus) and postfix (smtp-source).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CYRUS_BUILD:-$TOP/build}
DOC=$TOP/doc/benchmarks.md
messages=2000
write_doc=1
note=""
extra=""
while [ $# -gt 0 ]; do
    case "$1" in
    --messages) messages=$2; shift 2 ;;
    --note) note=$2; shift 2 ;;
    --no-doc) write_doc=0; shift ;;
    *) extra="$extra $1"; shift ;;
    esac
done
if [ ! -x "$BUILD/bin/lmtpd" ] || [ ! -x "$BUILD/bin/pop3d" ]; then
    echo "run-lmtp: $BUILD/bin/lmtpd or bin/pop3d not built" >&2
    exit 1
fi

out=$(mktemp /tmp/run-lmtp.XXXXXX.json)
trap 'rm -f "$out"' EXIT INT TERM
cmd="bench/lmtpbench.py --messages $messages$extra"
echo "run-lmtp: $cmd" >&2
# shellcheck disable=SC2086
CYRUS_BUILD=$BUILD python3 "$TOP/bench/lmtpbench.py" --messages "$messages" \
    --out "$out" $extra >/dev/null
table=$(python3 "$TOP/bench/lmtpbench.py" --compare "$out")
echo "$table"

if [ "$write_doc" = 1 ]; then
    mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
    cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
    cver=$(dpkg-query -W -f='${Version}' cyrus-imapd 2>/dev/null || echo unknown)
    pver=$(dpkg-query -W -f='${Version}' postfix 2>/dev/null || echo unknown)
    rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
    fs=$(df -T /tmp | awk 'NR == 2 {print $2}')
    {
        echo ""
        echo "## LMTP and POP3, $(date -u '+%Y-%m-%d %H:%M UTC'), $messages messages"
        echo ""
        echo "* machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr), spools on $fs (/tmp)"
        echo "* Cyrus: Debian cyrus-imapd $cver (single server, bench/cyruspeer.py, lmtpd -a, pop3d)"
        echo "* ours: tree $rev, one node of tests/backend.py (master, imapd, pop3d, lmtpd -a)"
        echo "* load: Postfix $pver smtp-source -L, one connection per message"
        echo "* command: \`bench/run-lmtp.sh --messages $messages\`, which ran \`$cmd\`"
        [ -n "$note" ] && echo "* note: $note"
        echo ""
        echo "$table"
    } >>"$DOC"
    echo "run-lmtp: appended to $DOC" >&2
fi
