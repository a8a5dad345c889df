#!/bin/sh
# Proxied against direct, ours and Cyrus's side by side in one run: starts
# our murder (tools/murder) and Debian Cyrus 3.6's (bench/cyruspeer.py
# --mode murder), runs bench/frontendbench.py against both, prints the
# report and appends it (date, machine, commands) to doc/benchmarks.md.
#
# Usage: bench/run-frontend.sh [--messages N] [--lmtp N] [--idle N]
#                               [--repeat N] [--rounds N] [--no-doc]
#                               [--before BUILD]
# --before BUILD: also start a murder from another build tree of ours (the
# tree before a change) and run it alongside (same-run before/after).
# Env:   CYRUS_BUILD   our build tree (default: build/)
#        BENCH_KEEP=1  keep the work directory
# Needs root (Cyrus master drops to user cyrus; the RSS probe reads /proc).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CYRUS_BUILD:-$TOP/build}
DOC=$TOP/doc/benchmarks.md
write_doc=1
opts=""
before=""
while [ $# -gt 0 ]; do
    case "$1" in
    --no-doc) write_doc=0; shift ;;
    --before) before=$2; shift 2 ;;
    --messages|--lmtp|--idle|--repeat|--rounds) opts="$opts $1 $2"; shift 2 ;;
    *) echo "run-frontend: unknown option $1" >&2; exit 2 ;;
    esac
done

WORK=$(mktemp -d /tmp/run-frontend.XXXXXX)
chmod 755 "$WORK"
cleanup() {
    python3 "$TOP/bench/cyruspeer.py" stop "$WORK/cyrus" >/dev/null 2>&1 || true
    CYRUS_BUILD=$BUILD python3 "$TOP/tools/murder" stop "$WORK/ours" >/dev/null 2>&1 || true
    if [ -n "$before" ]; then
        CYRUS_BUILD=$before python3 "$TOP/tools/murder" stop "$WORK/before" >/dev/null 2>&1 || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "run-frontend: work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT INT TERM

echo "run-frontend: starting our murder in $WORK/ours" >&2
CYRUS_BUILD=$BUILD python3 "$TOP/tools/murder" start "$WORK/ours" >"$WORK/ours-start.txt" 2>&1 || {
    tail -5 "$WORK/ours-start.txt" >&2; exit 1; }
bopt=""
if [ -n "$before" ]; then
    echo "run-frontend: starting the before murder ($before) in $WORK/before" >&2
    CYRUS_BUILD=$before python3 "$TOP/tools/murder" start "$WORK/before" --base-port 13000 \
        >"$WORK/before-start.txt" 2>&1 || { tail -5 "$WORK/before-start.txt" >&2; exit 1; }
    bopt="--before $WORK/before"
fi
echo "run-frontend: starting Cyrus's murder in $WORK/cyrus" >&2
python3 "$TOP/bench/cyruspeer.py" start "$WORK/cyrus" --mode murder >/dev/null
cmd="bench/frontendbench.py --ours DIR --cyrus DIR${before:+ --before DIR}$opts"
echo "run-frontend: $cmd" >&2
# shellcheck disable=SC2086
report=$(python3 "$TOP/bench/frontendbench.py" --ours "$WORK/ours" --cyrus "$WORK/cyrus" \
    --out "$WORK/frontend.json" $bopt $opts)
echo "$report"

if [ "$write_doc" = 1 ]; then
    mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
    cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
    cver=$(dpkg-query -W -f='${Version}' cyrus-imapd 2>/dev/null || echo unknown)
    rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
    {
        echo ""
        echo "## Frontend: proxied against direct, $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo ""
        echo "* machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr)"
        echo "* ours: tree $rev, tools/murder (frontend1 -> backend1);"
        echo "  Cyrus: Debian cyrus-imapd $cver, bench/cyruspeer.py --mode murder (frontend1 -> backend1)"
        echo "* command: \`bench/run-frontend.sh$opts${before:+ --before BUILD}\`, which ran \`$cmd\`"
        echo "* goal (issue 7): ours proxied >= 0.90 of ours direct, and ahead of Cyrus proxied"
        echo ""
        echo "$report"
    } >>"$DOC"
    echo "run-frontend: appended to $DOC" >&2
fi
