#!/bin/sh
# Build every fuzz target (cunit/fuzz/*_fuzz.c) with clang's libFuzzer and
# run each for a bounded time over its corpus (cunit/fuzz/corpus/<name>/).
# Usage: cunit/fuzz/run.sh [seconds-per-target] [target ...]
# Exits non-zero if a target fails to build or finds a crash.
set -eu
secs=${1:-10}
[ $# -gt 0 ] && shift
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$top/cunit/fuzz/bin}
mkdir -p "$out/obj"
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
CFLAGS="-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer-no-link,address,undefined -I$top/lib -I$top/imap -I$top/mupdate -I$top/cunit/fuzz $(pkg-config --cflags icu-uc icu-i18n)"
LIBS="$(pkg-config --libs icu-uc icu-i18n) -ldb-5.3 -lssl -lcrypto -lsasl2 -luuid -lz"
# the library, once (config.h from the build is not needed by lib/)
objs=""
for src in "$top"/lib/*.c; do
    o="$out/obj/$(basename "$src" .c).o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ]; then
        $CC $CFLAGS -c "$src" -o "$o"
    fi
    objs="$objs $o"
done
rm -f "$out/libfuzzlib.a"
ar rcs "$out/libfuzzlib.a" $objs
# the store and protocol code (everything in imap/ and mupdate/ but the
# programs' main files), so targets need not list their dependencies
iobjs=""
for src in "$top"/imap/*.c "$top"/mupdate/*.c; do
    grep -q '^main(' "$src" && continue
    o="$out/obj/imap-$(basename "$src" .c).o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ]; then
        $CC $CFLAGS -c "$src" -o "$o"
    fi
    iobjs="$iobjs $o"
done
rm -f "$out/libfuzzimap.a"
ar rcs "$out/libfuzzimap.a" $iobjs
targets="$*"
[ -n "$targets" ] || targets=$(cd "$top/cunit/fuzz" && ls *_fuzz.c 2>/dev/null | sed 's/_fuzz\.c$//')
fail=0
for t in $targets; do
    extra=$(sed -n 's/^ *\/\* *FUZZ_SOURCES: *\(.*\) *\*\/.*/\1/p' "$top/cunit/fuzz/${t}_fuzz.c")
    srcs=""
    for s in $extra; do srcs="$srcs $top/$s"; done
    $CC $CFLAGS -fsanitize=fuzzer "$top/cunit/fuzz/${t}_fuzz.c" $srcs \
        "$out/libfuzzimap.a" "$out/libfuzzlib.a" $LIBS -o "$out/$t"
    corpus="$top/cunit/fuzz/corpus/$t"
    mkdir -p "$corpus"
    work="$out/work-$t"
    rm -rf "$work"; mkdir -p "$work"
    echo "fuzz: $t for ${secs}s"
    if ! "$out/$t" -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 \
            -artifact_prefix="$out/$t-" "$work" "$corpus" >"$out/$t.log" 2>&1; then
        echo "fuzz: $t FAILED, see $out/$t.log"; tail -40 "$out/$t.log"; fail=1
    else
        echo "fuzz: $t ok ($(grep -c '' "$out/$t.log") log lines)"
    fi
done
exit $fail
