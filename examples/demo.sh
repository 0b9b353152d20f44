#!/usr/bin/env bash
# demo.sh [BUILD_DIR]: runs the examples built in BUILD_DIR/examples (default
# build), each after a heading saying what it shows and which seed program
# it comes from. Examples not listed here run afterwards, headed by the first
# line of their source. Exits non-zero if any example does.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/examples

if [ ! -d "$bin" ]; then
    echo "demo.sh: no $bin; build first (make)" >&2
    exit 1
fi

order=(goroutines gosched goexit pipeline select_even ctx_timeout ctx_errcancel ctx_gen tracker
    singleflight memo_monitor)
declare -A heading=(
    [goroutines]="go statements and sync.WaitGroup (seed 004), then 100000 goroutines on every worker"
    [gosched]="runtime.Gosched yields to the other goroutines (seed 002 §1.2.1)"
    [goexit]="runtime.Goexit runs deferred calls (seed 002 §1.2.2)"
    [pipeline]="a pipeline over unbuffered channels: counter -> squarer -> printer (seed 002 §1.5.4)"
    [select_even]="select over a channel of capacity 1 prints 0 2 4 6 8 (seed 002 §1.8.2)"
    [ctx_timeout]="timeout control: handle(ctx, ms) gives an rpc ms milliseconds with context.WithTimeout (seed 001 §9)"
    [ctx_errcancel]="error cancellation: f1 fails and cancels the context, f2 stops at once (seed 001 §9)"
    [ctx_gen]="a generator goroutine that does not leak: cancelling its context stops it (seed 001 §9)"
    [tracker]="the Tracker that owns its goroutine: Run, and Shutdown(ctx) bounded by a deadline (seed 003)"
    [singleflight]="1000 concurrent requests: a second without singleflight, milliseconds with it (seed 001 §11)"
    [memo_monitor]="the memo cache owned by a monitor goroutine: each URL fetched once (seed 002 §2.6.5)"
)

# Then every other example, in name order.
for src in examples/*.c; do
    name=$(basename "$src" .c)
    [ -n "${heading[$name]+x}" ] && continue
    order+=("$name")
    first=$(head -n 1 "$src" | sed -e 's|^/\* *||' -e 's| *\*/$||' -e "s|^$name.c: *||")
    heading[$name]=$first
done

failed=0
for name in "${order[@]}"; do
    echo "== $name: ${heading[$name]} =="
    if [ ! -x "$bin/$name" ]; then
        echo "(not built: $bin/$name)"
        failed=1
    else
        "$bin/$name"
        rc=$?
        if [ $rc -ne 0 ]; then
            echo "(exit status $rc)"
            failed=1
        fi
    fi
    echo
done
exit $failed
