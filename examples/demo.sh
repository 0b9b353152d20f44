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

order=(goroutines gosched goexit pipeline select_even blocking_call)
declare -A heading=(
    [goroutines]="go statements and sync.WaitGroup (seed 004), then 100000 goroutines on every worker"
    [gosched]="runtime.Gosched yields to the other goroutines (seed 002 §1.2.1)"
    [goexit]="runtime.Goexit runs deferred calls (seed 002 §1.2.2)"
    [pipeline]="a pipeline over unbuffered channels: counter -> squarer -> printer (seed 002 §1.5.4)"
    [select_even]="select over a channel of capacity 1 prints 0 2 4 6 8 (seed 002 §1.8.2)"
    [blocking_call]="a goroutine blocked in sleep(1) does not stop the ticker queued behind it: the monitor hands the worker's queue to a spare thread"
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
