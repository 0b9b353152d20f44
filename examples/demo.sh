#!/usr/bin/env bash
# demo.sh [BUILD_DIR]: runs the examples built in BUILD_DIR/examples (default
# build), each after a heading saying what it shows and which seed program
# it comes from. Examples not listed here run afterwards, headed by the first
# line of their source. Each runs with no arguments (the network examples
# then play a demo session in one process, with short periods: see their
# headers) and stdin from /dev/null, unless its entry below gives arguments
# ("du -v src": the program, then its arguments) or its environment
# ("GOC_MAXPROCS=1 hello_mutex"). Exits non-zero if any example does (other
# than as its entry expects).
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
       "du -v src" chat broadcast ctx_timeout ctx_errcancel ctx_gen ctx_square ctx_tree ctx_http
       ctx_leak ctx_value "tracker 1" "tracker 2" tracker singleflight
       races/memo memo_monitor "races/bank teller" "races/bank window" "races/bank withdraw"
       "races/bank deadlock" "races/reorder relaxed" "races/reorder seqcst" "races/icons rwmutex"
       "races/icons once" "GOC_MAXPROCS=1 hello_mutex" "hello_mutex fixed" "hello_mutex channel"
       "counters atomic" "counters mutex" "counters channel" "counters unbuffered" limit
       "listdir slice src chan.c" "listdir chan src chan.c" "listdir chan no-such-dir chan.c"
       "listdir func src chan.c" "listdir leak"
       serve_fatal serve_stop serve_errgroup memo_net blocking_call)
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
    [du -v src]="a parallel walk limited by a counting semaphore, progress ticks, cancellation by closing a channel (seed 002 §1.9-1.10)"
    [chat]="the chat server: a broadcaster monitor goroutine, three users join, talk and leave (seed 002 §1.11)"
    [serve_fatal]="servers nobody can manage: log.Fatal in a server's goroutine or in main ends the process (main's defer never runs); a server goroutine that just returns leaves main in select {}, a deadlock (seed 003)"
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
    [ctx_square]="a goroutine squares numbers, select with default on ctx.Done(), until main cancels its context (seed 001 §9, a tenth of its periods)"
    [tracker 1]="the seed's first Tracker: a goroutine per event, which nothing waits for: main returns with them running (seed 003)"
    [tracker 2]="the second: Event counts its goroutine in a WaitGroup, Shutdown waits for every event (seed 003)"
    [tracker]="the Tracker that owns its goroutine: Run, and Shutdown(ctx) bounded by a deadline (seed 003)"
    [singleflight]="1000 concurrent requests: a second without singleflight, milliseconds with it (seed 001 §11)"
    [races/memo]="the memo cache's versions 2-4: one lock (safe, serial), two-phase locking (parallel, duplicate calls), an entry with a ready channel (duplicate suppression) (seed 002 §2.6.2-2.6.4; version 1, a data race, under make race)"
    [memo_monitor]="the memo cache owned by a monitor goroutine: each URL fetched once (seed 002 §2.6.5)"
    [races/bank teller]="the bank's balance confined to a teller goroutine, reached over channels: share memory by communicating (seed 000; the unsynchronised bank, a data race, under make race)"
    [races/bank window]="the seed's WithDraw locks three times: between the locks others see the balance negative, and a withdrawal that fits fails (seed 000)"
    [races/bank withdraw]="WithDraw under one lock: neither happens (seed 000)"
    [races/bank deadlock]="WithDraw holds the lock and calls Deposit, which locks it again: reported as Go does, exit status 2 (seed 000, seed 002 §2.2.1)"
    [races/reorder relaxed]="x = 1; print y | y = 1; print x, with relaxed atomics: both goroutines read 0 now and then (seed 000)"
    [races/reorder seqcst]="the same with sequentially consistent atomics: never both 0 (seed 000)"
    [races/icons rwmutex]="lazy initialisation with a double-checked RWMutex: the icon table loaded once (seed 002 §2.3.1; without a lock, a data race, under make race)"
    [races/icons once]="the same with sync.Once (seed 002 §2.3.1)"
    [GOC_MAXPROCS=1 hello_mutex]="a mutex unlocked by main before the goroutine that should lock it has run (always, on one worker): Go's fatal error, exit status 2 (seed 004)"
    [hello_mutex fixed]="main locks, the goroutine prints and unlocks, main's second Lock waits for it (seed 004)"
    [hello_mutex channel]="the same wait with a done channel (seed 004)"
    [counters atomic]="two goroutines add 10000 each with an atomic: 20000 (seed 004)"
    [counters mutex]="the same under a mutex (seed 004)"
    [counters channel]="the count itself passed through a channel of capacity 1: whoever holds it may change it (seed 004)"
    [counters unbuffered]="the same channel unbuffered: nobody takes the last value, a deadlock, exit status 2 (seed 004's warning)"
    [limit]="a buffered channel of 3 bounds the work running at once; then the seed's select {} with nothing left to wake it: deadlock, exit status 2 (seed 004)"
    [listdir slice src chan.c]="ListDirectory returning a slice: every entry read before the caller sees one (seed 003, leave concurrency to the caller)"
    [listdir chan src chan.c]="ListDirectory returning a channel: the caller stops early and the walker is left blocked for ever (seed 003)"
    [listdir chan no-such-dir chan.c]="the channel form on a directory that does not exist: to the caller, the same as an empty one (seed 003)"
    [listdir func src chan.c]="ListDirectory with a callback: the caller stops the walk, no goroutine left (seed 003)"
    [listdir leak]="the seed's leak(): goroutines waiting on channels nobody else holds, listed by goc_dump (seed 003)"
)
# The demos of a deadlock and of a misused mutex exit with status 2, as
# Go's programs do.
declare -A expect_status=(
    [races/bank deadlock]=2
    [GOC_MAXPROCS=1 hello_mutex]=2
    [counters unbuffered]=2
    [limit]=2
)

# An entry's words: NAME=VALUE settings, the program, its arguments.
split_entry() {
    local -a w
    read -r -a w <<<"$1"
    envs=()
    while [[ ${w[0]} == *=* ]]; do
        envs+=("${w[0]}")
        w=("${w[@]:1}")
    done
    name=${w[0]}
    words=("${w[@]:1}")
}

# Then every other example, in name order.
listed=" "
for entry in "${order[@]}"; do
    split_entry "$entry"
    listed+="$name "
done
for src in examples/*.c; do
    name=$(basename "$src" .c)
    [[ $listed == *" $name "* ]] && continue
    order+=("$name")
    first=$(head -n 1 "$src" | sed -e 's|^/\* *||' -e 's| *\*/$||' -e "s|^$name.c: *||")
    heading[$name]=$first
done

failed=0
for entry in "${order[@]}"; do
    split_entry "$entry"
    echo "== $entry: ${heading[$entry]} =="
    if [ ! -x "$bin/$name" ]; then
        echo "(not built: $bin/$name)"
        failed=1
    else
        # Standard input is /dev/null: the examples that read it (an abort
        # key) run to their end.
        env "${envs[@]}" "$bin/$name" "${words[@]}" </dev/null
        rc=$?
        if [ $rc -ne "${expect_status[$entry]:-0}" ]; then
            echo "(exit status $rc)"
            failed=1
        elif [ $rc -ne 0 ]; then
            echo "(exit status $rc, as expected)"
        fi
    fi
    echo
done
exit $failed
