#!/usr/bin/env bash
# demo.sh [BUILD_DIR]: runs the examples built in BUILD_DIR/examples (default
# build), each after a heading saying what it shows and which seed program
# it comes from. Examples not listed here run afterwards, headed by the first
# line of their source. Each runs with no arguments (the network examples
# then play a demo session in one process, with short periods: see their
# headers) and stdin from /dev/null. Exits non-zero if any example does.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/examples

if [ ! -d "$bin" ]; then
    echo "demo.sh: no $bin; build first (make)" >&2
    exit 1
fi

order=(goroutines gosched goexit clock1 clock2 netcat1 reverb1 netcat2 reverb2 netcat3
       pipeline select_even thumbnail crawl countdown1 countdown2 countdown3 ticker polling priority
       du chat broadcast ctx_timeout ctx_errcancel ctx_gen ctx_tree ctx_http ctx_leak ctx_value
       tracker singleflight
       races/memo memo_monitor serve_stop serve_errgroup memo_net blocking_call)
declare -A heading=(
    [goroutines]="go statements and sync.WaitGroup (seed 004), then 100000 goroutines on every worker"
    [gosched]="runtime.Gosched yields to the other goroutines (seed 002 §1.2.1)"
    [goexit]="runtime.Goexit runs deferred calls (seed 002 §1.2.2)"
    [clock1]="a sequential clock server: two nc clients, the second served once the first quits (seed 002 §1.3.1)"
    [clock2]="the clock server with a goroutine per connection: both clients served at once (seed 002 §1.3.2)"
    [netcat1]="netcat1 copies a clock2 server's connection to stdout until the server stops (seed 002 §1.3.1)"
    [reverb1]="the echo server: each shout answered loud, normal, soft, one shout after the other (seed 002 §1.4.1)"
    [netcat2]="netcat2 against reverb1: stdin to the server and the server to stdout at once (seed 002 §1.4.2)"
    [reverb2]="the echo server with a goroutine per shout: the echoes overlap (seed 002 §1.4.3)"
    [netcat3]="netcat3 against reverb2: at ^D it closes its writing half and waits on a done channel (seed 002 §1.5.1)"
    [pipeline]="a pipeline over unbuffered channels: counter -> squarer -> printer (seed 002 §1.5.4)"
    [select_even]="select over a channel of capacity 1 prints 0 2 4 6 8 (seed 002 §1.8.2)"
    [blocking_call]="a goroutine blocked in sleep(1) does not stop the ticker queued behind it: the monitor hands the worker's queue to a spare thread"
    [thumbnail]="a parallel loop: the first error returned without leaking goroutines (a buffered channel), a loop of unknown length (WaitGroup + closer), and makeThumbnails4, whose unbuffered channel leaks the workers it stops listening to (seed 002 §1.6.4-1.6.6)"
    [crawl]="the web crawler three ways over a site it serves itself: a goroutine per link, 20 tokens and a count that ends the loop, 20 crawler goroutines (seed 002 §1.7)"
    [countdown1]="a launch countdown paced by time.Tick, 100 ms a tick here (seed 002 §1.8.1)"
    [countdown2]="select on time.After and an abort channel fed by a thread reading stdin (seed 002 §1.8.1; stdin is /dev/null: no abort)"
    [countdown3]="the countdown tick by tick with select, on a ticker that is stopped (seed 002 §1.8.3)"
    [ticker]="time.Tick vs NewTicker+Stop: nothing after Stop, a slow receiver loses ticks (seed 002 §1.8.3)"
    [polling]="polling a channel with select and default, never blocking (seed 002 §1.8.4)"
    [priority]="a select that prefers one channel: every ready job1 before a job2 (seed 002 §1.8.5)"
    [du]="du -v src: a parallel walk limited by a counting semaphore, progress ticks, cancellation by closing a channel (seed 002 §1.9-1.10)"
    [chat]="the chat server: a broadcaster monitor goroutine, three users join, talk and leave (seed 002 §1.11)"
    [serve_stop]="the app and debug servers stop together: a stop channel closed at the first exit, a done channel to wait for the rest (seed 001 §1)"
    [serve_errgroup]="the servers in an errgroup: a /shutdown request, then a ^C, and every goroutine of the group stops (seed 001 §7)"
    [memo_net]="the memo cache fetching from a local server: 20 concurrent gets of 4 URLs, one fetch each (seed 002 §2.6.4)"
    [broadcast]="close(stop) stops ten goroutines at once, a buffered done channel collects them, and a future over one-way channels (seed 001 §10)"
    [ctx_tree]="one cancel() stops a goroutine and the one it started, and a job cancelled before its work is done (seed 000 context, seed 004)"
    [ctx_http]="an HTTP handler that sees its client go away through the request's context, and a client whose timeout ends its request (seed 004)"
    [ctx_leak]="http.TimeoutHandler answers in 1 ms, but a handler that ignores its context goes on: one goroutine leaked per request; one that watches ctx.Done() leaks none (seed 001 §9)"
    [ctx_value]="request-scoped data: a middleware puts each request's X-Request-ID in its context (WithValue), the handler reads it back (seed 001 §9)"
    [ctx_timeout]="timeout control: handle(ctx, ms) gives an rpc ms milliseconds with context.WithTimeout (seed 001 §9)"
    [ctx_errcancel]="error cancellation: f1 fails and cancels the context, f2 stops at once (seed 001 §9)"
    [ctx_gen]="a generator goroutine that does not leak: cancelling its context stops it (seed 001 §9)"
    [tracker]="the Tracker that owns its goroutine: Run, and Shutdown(ctx) bounded by a deadline (seed 003)"
    [singleflight]="1000 concurrent requests: a second without singleflight, milliseconds with it (seed 001 §11)"
    [races/memo]="the memo cache's versions 2-4: one lock (safe, serial), two-phase locking (parallel, duplicate calls), an entry with a ready channel (duplicate suppression) (seed 002 §2.6.2-2.6.4; version 1, a data race, under make race)"
    [memo_monitor]="the memo cache owned by a monitor goroutine: each URL fetched once (seed 002 §2.6.5)"
)
# Arguments, for the examples that take some.
declare -A args=(
    [du]="-v src"
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
        # Standard input is /dev/null: the examples that read it (an abort
        # key) run to their end.
        # shellcheck disable=SC2086 # args are words
        "$bin/$name" ${args[$name]:-} </dev/null
        rc=$?
        if [ $rc -ne 0 ]; then
            echo "(exit status $rc)"
            failed=1
        fi
    fi
    echo
done
exit $failed
