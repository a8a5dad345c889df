#!/bin/sh
# Side-by-side IMAP benchmark: Debian's Cyrus 3.6 (bench/cyruspeer.py, single
# mode) and, if it is built, our server (tools/murder; measured on backend1's
# imapd directly, no proxy), both driven by bench/imapbench.py in the same
# run.  Prints a table with ratios (ours/cyrus) and appends it, with the date,
# the commands and the machine, to doc/benchmarks.md.
#
# Usage: bench/run-imap.sh [--messages N] [--no-doc] [imapbench options...]
# Env:   CYRUS_BUILD   our build tree (default: build/), needs bin/imapd
#        BENCH_KEEP=1  keep the work directory (configs, JSON results)
# Needs root (Cyrus master drops to user cyrus; the RSS probe reads /proc).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${CYRUS_BUILD:-$TOP/build}
DOC=$TOP/doc/benchmarks.md
messages=10000
write_doc=1
extra=""
while [ $# -gt 0 ]; do
    case "$1" in
    --messages) messages=$2; shift 2 ;;
    --no-doc) write_doc=0; shift ;;
    *) extra="$extra $1"; shift ;;
    esac
done

WORK=$(mktemp -d /tmp/run-imap.XXXXXX)
chmod 755 "$WORK"
ours_started=0
cleanup() {
    python3 "$TOP/bench/cyruspeer.py" stop "$WORK/cyrus" >/dev/null 2>&1 || true
    if [ "$ours_started" = 1 ]; then
        CYRUS_BUILD=$BUILD python3 "$TOP/tools/murder" stop "$WORK/ours" >/dev/null 2>&1 || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "run-imap: work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT INT TERM

echo "run-imap: starting Debian Cyrus (single) in $WORK/cyrus" >&2
python3 "$TOP/bench/cyruspeer.py" start "$WORK/cyrus" --mode single >"$WORK/cyrus-peer.json"
cport=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["backends"][0]["imap"])' "$WORK/cyrus-peer.json")
cmd_cyrus="bench/imapbench.py --port $cport --user bench --password bench-pw --messages $messages --label cyrus$extra"
echo "run-imap: $cmd_cyrus" >&2
# shellcheck disable=SC2086
python3 "$TOP/bench/imapbench.py" --port "$cport" --user bench --password bench-pw \
    --messages "$messages" --label cyrus --out "$WORK/cyrus.json" $extra >/dev/null
results="$WORK/cyrus.json"
python3 "$TOP/bench/cyruspeer.py" stop "$WORK/cyrus" >/dev/null

ours_note=""
cmd_ours=""
if [ -x "$BUILD/bin/imapd" ] && [ -x "$BUILD/bin/master" ]; then
    echo "run-imap: starting our server (tools/murder) in $WORK/ours" >&2
    ours_started=1
    if CYRUS_BUILD=$BUILD python3 "$TOP/tools/murder" start "$WORK/ours" --base-port 12600 >"$WORK/ours-start.txt" 2>&1; then
        oport=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print([b for b in j["backends"] if b["name"]=="backend1"][0]["imap"])' "$WORK/ours/murder.json")
        cmd_ours="bench/imapbench.py --port $oport --user alice --password alice-pw --messages $messages --label ours$extra"
        echo "run-imap: $cmd_ours" >&2
        # shellcheck disable=SC2086
        if python3 "$TOP/bench/imapbench.py" --port "$oport" --user alice --password alice-pw \
            --messages "$messages" --label ours --out "$WORK/ours.json" $extra >/dev/null 2>"$WORK/ours.err"; then
            results="$results $WORK/ours.json"
        else
            ours_note="our server: imapbench failed: $(tail -1 "$WORK/ours.err")"
        fi
    else
        ours_note="our server: tools/murder start failed: $(tail -1 "$WORK/ours-start.txt")"
    fi
else
    ours_note="our server skipped: ${BUILD#"$TOP"/}/bin/imapd (and bin/master) not built yet"
fi

# shellcheck disable=SC2086
table=$(python3 "$TOP/bench/imapbench.py" --compare $results)
echo "$table"
[ -n "$ours_note" ] && echo "NOTE: $ours_note"

if [ "$write_doc" = 1 ]; then
    mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
    cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
    cver=$(dpkg-query -W -f='${Version}' cyrus-imapd 2>/dev/null || echo unknown)
    rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
    {
        echo ""
        echo "## IMAP, $(date -u '+%Y-%m-%d %H:%M UTC'), $messages messages"
        echo ""
        echo "* machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr)"
        echo "* Cyrus: Debian cyrus-imapd $cver (single server, bench/cyruspeer.py)"
        if [ -n "$cmd_ours" ]; then
            echo "* ours: tree $rev, backend1 of tools/murder (its imapd directly, no proxy)"
        else
            echo "* ours: not measured"
        fi
        echo "* commands: \`bench/run-imap.sh --messages $messages\`, which ran"
        echo "  \`$cmd_cyrus\`${cmd_ours:+ and \`$cmd_ours\`}"
        [ -n "$ours_note" ] && echo "* note: $ours_note"
        echo ""
        echo "$table"
    } >>"$DOC"
    echo "run-imap: appended to $DOC" >&2
fi
