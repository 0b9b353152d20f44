#!/bin/sh
# tests/races.sh DIR: seed 001's race detector programs, and seed 000's and
# 002's racy programs (examples/races/),
# built with ThreadSanitizer (make race registers this test in build-tsan/).
# Each racy version must make TSan report a data race with both
# goroutines' stacks and exit with status 66 under halt_on_error=1 (as Go's
# GORACE=halt_on_error=1 does); each fixed version must run clean (exit 0,
# no report).
dir=${1:?usage: races.sh DIR}
passed=0 failed=0
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT

fail() { echo "--- FAIL: $1: $2"; sed -n 1,60p "$out"; failed=$((failed + 1)); }

check() { # program variant expect(racy|clean) [more arguments]
    prog=$1 variant=$2 expect=$3
    shift 3
    echo "=== RUN   $prog $variant"
    TSAN_OPTIONS=halt_on_error=1 "$dir/$prog" "$variant" "$@" >"$out" 2>&1
    rc=$?
    if [ "$expect" = racy ]; then
        if [ $rc -ne 66 ]; then fail "$prog $variant" "exit $rc, want 66"; return; fi
        if ! grep -q 'WARNING: ThreadSanitizer: data race' "$out"; then
            fail "$prog $variant" "no data race report"; return
        fi
        # Both accesses, each with its stack: the current one and the
        # previous one, each followed by a frame #0.
        cur=$(grep -cE '^ +(Read|Write|Atomic [a-z]+) of size' "$out")
        prev=$(grep -cE '^ +Previous (read|write|atomic [a-z]+) of size' "$out")
        frames=$(grep -cE '^ +#0 ' "$out")
        if [ "$cur" -lt 1 ] || [ "$prev" -lt 1 ] || [ "$frames" -lt 2 ]; then
            fail "$prog $variant" "report lacks both goroutines' stacks"; return
        fi
        if ! grep -qE "#[0-9]+ .*$prog\.c:[0-9]+" "$out"; then
            fail "$prog $variant" "no frame in $prog.c"; return
        fi
    else
        if [ $rc -ne 0 ] || grep -q ThreadSanitizer "$out"; then
            fail "$prog $variant" "exit $rc, want a clean run"; return
        fi
    fi
    echo "--- PASS: $prog $variant"
    passed=$((passed + 1))
}

check counter racy racy
check counter mutex clean
check counter atomic clean
check counter channel clean
check loopvar racy racy
check loopvar copy clean
check loopvar channel clean
check shared_err racy racy
check shared_err local clean
check global_map racy racy
check global_map mutex clean
check global_map syncmap clean
check watchdog racy racy
check watchdog atomic clean
check watchdog mutex clean
check icecream racy racy
check icecream mutex clean
check icecream atomic clean
check memo racy racy
check memo lock clean
check memo twophase clean
check memo entry clean
check bank racy racy
check bank mutex clean
check bank channel clean
check bank teller clean
check bank rwmutex clean
check bank window clean
check bank withdraw clean
check reorder racy racy 1000
check reorder relaxed clean 2000
check reorder seqcst clean 2000
check reorder mutex clean 2000
check icons racy racy
check icons rwmutex clean
check icons once clean

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
