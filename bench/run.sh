#!/usr/bin/env bash
# bench/run.sh BUILDDIR: runs goc's benchmarks against their Go twins and
# prints one table (also written to BUILDDIR/bench-results.txt).
#
#   bench/run.sh build                     # what `make bench` runs
#   BENCH_ROUNDS=3 bench/run.sh build      # fewer rounds (default 5)
#   BENCH_FILTER='^yield' bench/run.sh build   # only the rows whose name matches
#
# Environment:
#   BENCH_ROUNDS   rounds (default 5). Each round runs every benchmark once in
#                  C and once in Go, alternating which goes first.
#   BENCH_FILTER   extended regex; only the benchmarks whose name matches run
#                  (a benchmark named in a /NAME goal runs as well).
#   BENCH_TIMEOUT  seconds one run may take before it counts as failed (120).
#   BENCH_STRICT   1: exit with status 3 when a goal is missed.
#   BENCH_SCALE    worker counts, e.g. "1 2 4 8 16": each selected row that
#                  sets procs (and is not itself an @N row) runs once per
#                  count, as NAME@N with no goals: the scaling table.
#
# Without a Go toolchain, Go twins already built in BUILDDIR/bench-go/ (by an
# earlier run elsewhere) are used as they are.
#
# The C binaries come from the CMake build (BUILDDIR/bench/, or BUILDDIR/);
# the Go twins are built here from bench/go/<name>.go into BUILDDIR/bench-go/.
# Go is installed with apt-get (package golang-go) when `go` is missing.
# See docs/benchmarks.md. Pure bash + awk: no python needed.
set -u -o pipefail

# ---------------------------------------------------------------------------
# The benchmarks. Adding one is adding a line here (and, for a new program,
# bench/<prog>_bench.c and its twin bench/go/<prog>_bench.go).
#
#   name      row name, unique; "@1" marks the one-worker row by convention
#   c-binary  executable the CMake build makes from bench/<c-binary>.c
#   go-binary <prog>_go, built from bench/go/<prog>.go; "-": no Go twin
#   arg       argv[1] given to both; each prints one number on stdout
#   unit      unit of that number (lower is better)
#   procs     GOC_MAXPROCS and GOMAXPROCS for both; "-": leave them unset
#   goals     comma-separated, "-" for none. Each is one of
#               <=X         median of the paired ratios goc/Go <= X
#               goc<=X      goc median <= X (in the row's unit)
#               /NAME<=X    goc median / goc median of row NAME <= X
#                           (shown as its own row "name/NAME")
#             (">=" works as well as "<=")
#
# name            c-binary     go-binary       arg            unit    procs  goals
BENCHMARKS='
spawn             sched_bench  sched_bench_go  spawn          ns/op   2      <=0.5
spawn@1           sched_bench  sched_bench_go  spawn          ns/op   1      <=0.5,goc<=40
yield             sched_bench  sched_bench_go  yield          ns/op   2      <=0.25,/bareswap<=3
yield@1           sched_bench  sched_bench_go  yield          ns/op   1      <=0.25,/bareswap<=3,goc<=10
parked_create     sched_bench  sched_bench_go  parked_create  ns/op   2      <=0.5
parked_create@1   sched_bench  sched_bench_go  parked_create  ns/op   1      <=0.5
parked_rss        sched_bench  sched_bench_go  parked_rss     B/op    2      goc<=4608
parked_rss@1      sched_bench  sched_bench_go  parked_rss     B/op    1      goc<=4608
parked_pte        sched_bench  sched_bench_go  parked_pte     B/op    2      -
parked_pte@1      sched_bench  sched_bench_go  parked_pte     B/op    1      -
bareswap          sched_bench  -               bareswap       ns/op   -      -
ChanSync          chan_bench   chan_bench_go   ChanSync       ns/op   2      <=0.5
ChanProdCons0     chan_bench   chan_bench_go   ChanProdCons0  ns/op   2      <=0.5
ChanProdCons10    chan_bench   chan_bench_go   ChanProdCons10 ns/op   2      <=0.5
ChanProdCons100   chan_bench   chan_bench_go   ChanProdCons100 ns/op  2      <=0.5
ChanUncontended   chan_bench   chan_bench_go   ChanUncontended ns/op  2      <=0.5
ChanContended     chan_bench   chan_bench_go   ChanContended  ns/op   2      <=0.5
SelectUncontended chan_bench   chan_bench_go   SelectUncontended ns/op 2     <=0.5
SelectSyncContended chan_bench chan_bench_go   SelectSyncContended ns/op 2   <=0.5
SelectProdCons    chan_bench   chan_bench_go   SelectProdCons ns/op   2      <=0.5
SelectNonblock    chan_bench   chan_bench_go   SelectNonblock ns/op   2      <=0.5
ChanCreation      chan_bench   chan_bench_go   ChanCreation   ns/op   2      <=0.5
pingpong          chan_bench   chan_bench_go   pingpong       ns/op   2      <=0.5
pingpong@1        chan_bench   chan_bench_go   pingpong       ns/op   1      goc<=58.5
skynet            chan_bench   chan_bench_go   skynet         ms      2      <=0.5
skynet@1          chan_bench   chan_bench_go   skynet         ms      1      <=0.5
config_mutex      sync_bench   sync_bench_go   config_mutex   ns/op   2      <=0.5
config_rwmutex    sync_bench   sync_bench_go   config_rwmutex ns/op   2      <=0.5,/config_mutex<=1
config_atomic     sync_bench   sync_bench_go   config_atomic  ns/op   2      <=0.5,/config_rwmutex<=1
config_atomic_cow sync_bench   sync_bench_go   config_atomic_cow ns/op 2     -
mutex_uncontended sync_bench   sync_bench_go   mutex_uncontended ns/op 2     <=0.7
mutex_8           sync_bench   sync_bench_go   mutex_8        ns/op   2      <=0.7
mutex_1000        sync_bench   sync_bench_go   mutex_1000     ns/op   2      <=0.7
rwmutex_read      sync_bench   sync_bench_go   rwmutex_read   ns/op   2      <=0.7
waitgroup         sync_bench   sync_bench_go   waitgroup      ns/op   2      <=0.7
once              sync_bench   sync_bench_go   once           ns/op   2      <=0.7
pool              sync_bench   sync_bench_go   pool           ns/op   2      <=0.7
map_load          sync_bench   sync_bench_go   map_load       ns/op   2      <=0.7
cond_broadcast    sync_bench   sync_bench_go   cond_broadcast ns      2      -
cond_broadcast@1  sync_bench   sync_bench_go   cond_broadcast ns      1      -
sleep100k         timer_bench  timer_bench_go  sleep100k      us      2      goc<=1000
sleep100k_wall    timer_bench  timer_bench_go  sleep100k_wall ms      2      -
sleep100k@1       timer_bench  timer_bench_go  sleep100k      us      1      goc<=1000
sleep100k_wall@1  timer_bench  timer_bench_go  sleep100k_wall ms      1      -
sleep10k          timer_bench  timer_bench_go  sleep10k       us      2      goc<=1000
sleep10k_wall     timer_bench  timer_bench_go  sleep10k_wall  ms      2      -
sleep10k@1        timer_bench  timer_bench_go  sleep10k       us      1      goc<=1000
sleep10k_wall@1   timer_bench  timer_bench_go  sleep10k_wall  ms      1      -
timer_churn       timer_bench  timer_bench_go  timer_churn    ns/op   2      <=0.5
timer_churn@1     timer_bench  timer_bench_go  timer_churn    ns/op   1      <=0.5
net_echo          net_bench    net_bench_go    echo_rps       req/s   2      >=1.3
net_echo@1        net_bench    net_bench_go    echo_rps       req/s   1      >=1.3
net_echo_p99      net_bench    net_bench_go    echo_p99       us      2      <=1
net_echo_p99@1    net_bench    net_bench_go    echo_p99       us      1      <=1
CommonParentCancel context_bench context_bench_go CommonParentCancel ns/op 2  <=0.5
CommonParentCancel@1 context_bench context_bench_go CommonParentCancel ns/op 1 <=0.5
CommonParentCancel0 context_bench context_bench_go CommonParentCancel0 ns/op 2 <=0.5
WithTimeout       context_bench context_bench_go WithTimeout  ns/op   2      <=0.5
WithTimeout@1     context_bench context_bench_go WithTimeout  ns/op   1      <=0.5
CancelTree        context_bench context_bench_go CancelTree   ns/op   2      <=0.5
CheckCanceledErr  context_bench context_bench_go CheckCanceledErr ns/op 2    <=0.5
CheckCanceledDone context_bench context_bench_go CheckCanceledDone ns/op 2   <=0.5
DeepValue         context_bench context_bench_go DeepValue    ns/op   2      <=0.5
CancelBroadcast   context_bench context_bench_go CancelBroadcast ns   2      <=0.5
CancelBroadcast@1 context_bench context_bench_go CancelBroadcast ns   1      <=0.5
Singleflight      context_bench context_bench_go Singleflight ns/op   2      <=0.5
Singleflight@1    context_bench context_bench_go Singleflight ns/op   1      <=0.5
ErrgroupFanout    context_bench context_bench_go ErrgroupFanout ns/op 2      <=0.5
ErrgroupFanout@1  context_bench context_bench_go ErrgroupFanout ns/op 1      <=0.5
'

# ---------------------------------------------------------------------------

die() { echo "bench/run.sh: $*" >&2; exit 1; }
note() { echo "bench/run.sh: $*" >&2; }

[ $# -eq 1 ] || die "usage: bench/run.sh BUILDDIR"
ROOT=$(cd "$(dirname "$0")/.." && pwd) || die "cannot find the source tree"
BUILD=$(cd "$1" 2>/dev/null && pwd) || die "no build directory '$1' (run make first)"
ROUNDS=${BENCH_ROUNDS:-5}
FILTER=${BENCH_FILTER:-}
TIMEOUT=${BENCH_TIMEOUT:-120}
case $ROUNDS in '' | *[!0-9]* | 0) die "BENCH_ROUNDS must be a positive integer" ;; esac
case $TIMEOUT in '' | *[!0-9]* | 0) die "BENCH_TIMEOUT must be a positive integer" ;; esac

# Parse the table into arrays; check it.
names=() cbins=() gobins=() args=() units=() procs=() goals=()
declare -A seen=()
while read -r n c g a u p gl extra; do
    [ -z "${n:-}" ] && continue
    case $n in \#*) continue ;; esac
    [ -n "${gl:-}" ] && [ -z "${extra:-}" ] || die "bad table line: $n $c $g $a $u $p ${gl:-} ${extra:-}"
    [ -z "${seen[$n]:-}" ] || die "benchmark '$n' listed twice"
    seen[$n]=1
    names+=("$n") cbins+=("$c") gobins+=("$g") args+=("$a") units+=("$u") procs+=("$p") goals+=("$gl")
done <<<"$BENCHMARKS"

# Rows to run: those matching BENCH_FILTER, plus the rows their /NAME goals need.
declare -A want=()
for i in "${!names[@]}"; do
    if [ -z "$FILTER" ] || [[ ${names[$i]} =~ $FILTER ]]; then
        want[${names[$i]}]=1
        IFS=, read -ra gs <<<"${goals[$i]}"
        for g in "${gs[@]}"; do
            if [[ $g =~ ^/([^\<\>=]+)(\<=|\>=) ]]; then
                [ -n "${seen[${BASH_REMATCH[1]}]:-}" ] || die "${names[$i]}: goal $g names no benchmark"
                want[${BASH_REMATCH[1]}]=1
            fi
        done
    fi
done
sel=()
for i in "${!names[@]}"; do [ -n "${want[${names[$i]}]:-}" ] && sel+=("$i"); done
[ ${#sel[@]} -gt 0 ] || die "BENCH_FILTER '$FILTER' matches no benchmark"

# Scaling mode: the selected rows become one row per worker count, appended
# to the arrays (goals dropped: they were set for the row's own procs).
if [ -n "${BENCH_SCALE:-}" ]; then
    read -ra counts <<<"$BENCH_SCALE"
    for p in "${counts[@]}"; do
        case $p in '' | *[!0-9]* | 0) die "BENCH_SCALE: '$p' is not a positive integer" ;; esac
    done
    scaled=()
    for i in "${sel[@]}"; do
        [ "${procs[$i]}" = - ] || [[ ${names[$i]} =~ @[0-9]+$ ]] && continue
        for p in "${counts[@]}"; do
            names+=("${names[$i]}@$p") cbins+=("${cbins[$i]}") gobins+=("${gobins[$i]}")
            args+=("${args[$i]}") units+=("${units[$i]}") procs+=("$p") goals+=(-)
            scaled+=($((${#names[@]} - 1)))
        done
    done
    [ ${#scaled[@]} -gt 0 ] || die "BENCH_SCALE: no selected row sets procs"
    sel=("${scaled[@]}")
fi

# ---------------------------------------------------------------------------
# Go: find it, install it if missing, build the twins.

find_go() {
    GO=$(command -v go 2>/dev/null) && return 0
    for g in /usr/lib/go/bin/go /usr/local/go/bin/go; do
        [ -x "$g" ] && GO=$g && return 0
    done
    return 1
}

GODIR=$BUILD/bench-go
HAVE_GO=0
prebuilt_twins() {
    local i g
    for i in "${sel[@]}"; do
        g=${gobins[$i]}
        [ "$g" = - ] || [ -x "$GODIR/$g" ] || return 1
    done
}
if ! find_go && prebuilt_twins; then
    note "no go command: using the twins already built in $GODIR"
    HAVE_GO=2
elif [ -z "${GO:-}" ]; then
    note "go is missing: installing golang-go with apt-get"
    SUDO=
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo
    if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >&2; then
        find_go || note "golang-go installed but no go command found"
    else
        note "apt-get install golang-go failed"
    fi
fi
if [ -n "${GO:-}" ]; then
    HAVE_GO=1
    mkdir -p "$GODIR" || die "cannot create $GODIR"
    declare -A built=()
    for i in "${sel[@]}"; do
        g=${gobins[$i]}
        [ "$g" = - ] || [ -n "${built[$g]:-}" ] && continue
        src=$ROOT/bench/go/${g%_go}.go
        [ -f "$src" ] || die "${names[$i]}: no Go source $src for $g"
        # No module, a cache inside the build directory: works without a
        # writable HOME and without network access.
        if ! (cd "$ROOT" && env GO111MODULE=off GOFLAGS= CGO_ENABLED=0 \
            GOCACHE="$GODIR/cache" GOPATH="$GODIR/gopath" \
            "$GO" build -o "$GODIR/$g" "$src") >&2; then
            die "go build $src failed"
        fi
        built[$g]=1
    done
elif [ $HAVE_GO -eq 0 ]; then
    note "no Go toolchain: the Go column stays empty"
fi

# C binaries: BUILDDIR/bench/X (CMake layout) or BUILDDIR/X.
cpath() {
    local b
    for b in "$BUILD/bench/$1" "$BUILD/$1"; do
        [ -x "$b" ] && [ -f "$b" ] && { echo "$b"; return 0; }
    done
    return 1
}
declare -A CBIN=()
for i in "${sel[@]}"; do
    c=${cbins[$i]}
    [ -n "${CBIN[$c]:-}" ] && continue
    CBIN[$c]=$(cpath "$c") || die "${names[$i]}: no executable $c in $BUILD/bench or $BUILD (run make first)"
done

# ---------------------------------------------------------------------------
# Runs.

RAW=$BUILD/bench-raw.txt # round name side value: every measurement
ERR=$BUILD/bench-stderr.txt
: >"$RAW" && : >"$ERR" && : >"$BUILD/bench-also.txt" || die "cannot write to $BUILD"
failures=0

# A program whose one run measures several figures may also write them to
# stderr, one "bench-also: <arg> <value>" line each. A later row of the same
# round that would run the same program, side and procs with one of those
# args takes the value from there instead of running it again (the parked
# experiment gives parked_create, parked_rss and parked_pte in one run).
ALSO=$BUILD/bench-also.txt # round side program procs arg value

# run_one ROUND INDEX SIDE(goc|go): runs one binary (or reuses a figure from
# ALSO), appends to RAW, echoes the value.
run_one() {
    local r=$1 i=$2 side=$3 bin prog p out v rc
    if [ "$side" = goc ]; then
        prog=${cbins[$i]} bin=${CBIN[${cbins[$i]}]}
    else
        prog=${gobins[$i]} bin=$GODIR/${gobins[$i]}
    fi
    p=${procs[$i]}
    v=$(awk -v r="$r" -v s="$side" -v b="$prog" -v p="$p" -v a="${args[$i]}" \
        '$1 == r && $2 == s && $3 == b && $4 == p && $5 == a { print $6; exit }' "$ALSO")
    if [ -n "$v" ]; then
        echo "$r ${names[$i]} $side $v" >>"$RAW"
        printf '%s' "$v"
        return
    fi
    local -a envs=()
    [ "$p" != - ] && envs=(GOC_MAXPROCS="$p" GOMAXPROCS="$p")
    out=$(env "${envs[@]}" timeout "$TIMEOUT" "$bin" "${args[$i]}" 2>"$BUILD/bench-last-stderr.txt")
    rc=$?
    v=$(printf '%s\n' "$out" | awk 'NF { last = $1 } END { print last }')
    if [ $rc -ne 0 ] || ! [[ $v =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
        {
            echo "== round $r ${names[$i]} $side: $bin ${args[$i]} (procs $p): exit $rc, output '$out'"
            tail -n 20 "$BUILD/bench-last-stderr.txt"
        } >>"$ERR"
        local why="exit $rc"
        [ $rc -eq 0 ] && why="printed no number"
        [ $rc -eq 124 ] && why="timed out after ${TIMEOUT}s"
        note "${names[$i]} ($side) failed: $why (see $ERR)"
        v=fail
    fi
    if [ "$v" != fail ]; then
        awk -v r="$r" -v s="$side" -v b="$prog" -v p="$p" \
            '$1 == "bench-also:" && NF == 3 && $3 ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ {
                print r, s, b, p, $2, $3 }' "$BUILD/bench-last-stderr.txt" >>"$ALSO"
    fi
    echo "$r ${names[$i]} $side $v" >>"$RAW"
    printf '%s' "$v"
}

start=$(date +%s)
note "${#sel[@]} benchmarks x $ROUNDS rounds; goc: ${CBIN[*]}; go: ${GO:-none}"
for ((r = 1; r <= ROUNDS; r++)); do
    for i in "${sel[@]}"; do
        if [ $((r % 2)) -eq 1 ]; then order="goc go"; else order="go goc"; fi
        vgoc=- vgo=-
        for side in $order; do
            if [ "$side" = go ]; then
                [ "${gobins[$i]}" = - ] || [ $HAVE_GO -eq 0 ] && continue
                vgo=$(run_one "$r" "$i" go)
            else
                vgoc=$(run_one "$r" "$i" goc)
            fi
        done
        printf 'bench/run.sh: [%d/%d] %-18s goc %-10s go %s\n' "$r" "$ROUNDS" "${names[$i]}" "$vgoc" "$vgo" >&2
    done
done
# (run_one runs in a subshell: count the failures from RAW.)
failures=$(awk '$4 == "fail"' "$RAW" | wc -l)

# ---------------------------------------------------------------------------
# The table: medians over rounds, the median of the per-round ratios goc/Go,
# the goals.

{
    for i in "${sel[@]}"; do
        echo "B ${names[$i]} ${units[$i]} ${procs[$i]} ${goals[$i]}"
    done
    cat "$RAW"
} | awk -v rounds="$ROUNDS" -v elapsed="$(($(date +%s) - start))" \
    -v gover="$(case $HAVE_GO in 1) "$GO" version 2>/dev/null | awk '{ print $3 }' ;; 2) echo 'prebuilt Go twins' ;; *) echo none ;; esac)" \
    -v cpus="$(nproc 2>/dev/null || echo '?')" -v strict="${BENCH_STRICT:-0}" '
function isnum(x) { return x ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
# median of the n values in a[1..n] (sorts a)
function median(a, n,    i, j, t) {
    if (n == 0) return "-"
    for (i = 2; i <= n; i++) {
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x) {
    if (x == "-") return "-"
    if (x < 0) return sprintf("%.2f", x)
    if (x >= 1000) return sprintf("%.0f", x)
    if (x >= 100) return sprintf("%.1f", x)
    return sprintf("%.2f", x)
}
function fmtr(x) { return x == "-" ? "-" : sprintf("%.3f", x) }
# check(value, "<=X"): 1 met, 0 missed, -1 unknown
function check(v, g,    op, lim) {
    if (v == "-") return -1
    op = substr(g, 1, 2); lim = substr(g, 3) + 0
    return op == "<=" ? (v + 0 <= lim) : (v + 0 >= lim)
}
$1 == "B" { nb++; bname[nb] = $2; bunit[$2] = $3; bprocs[$2] = $4; bgoal[$2] = $5; next }
{
    r = $1; n = $2; side = $3; v = $4
    if (!isnum(v)) { failed[n, side]++; next }
    v += 0
    val[n, side, r] = v
    if (side == "goc") { ngoc[n]++; cg[n, ngoc[n]] = v }
    else { ngo[n]++; cgo[n, ngo[n]] = v }
}
END {
    # medians
    for (k = 1; k <= nb; k++) {
        n = bname[k]
        delete a; for (i = 1; i <= ngoc[n]; i++) a[i] = cg[n, i]; mgoc[n] = median(a, ngoc[n] + 0)
        delete a; for (i = 1; i <= ngo[n]; i++) a[i] = cgo[n, i]; mgo[n] = median(a, ngo[n] + 0)
        delete a; m = 0
        for (r = 1; r <= rounds; r++)
            if (((n, "goc", r) in val) && ((n, "go", r) in val) && val[n, "go", r] > 0)
                a[++m] = val[n, "goc", r] / val[n, "go", r]
        mratio[n] = median(a, m)
    }
    line = "------------------------------------------------------------------------------------"
    printf "goc vs Go: medians of %d rounds (%s CPUs, %s, %ds)\n", rounds, cpus, gover, elapsed
    print line
    printf "%-18s %-6s %5s %10s %10s %8s  %-22s %s\n", "benchmark", "unit", "procs", "goc", "Go", "goc/Go", "goal", "met"
    print line
    nrows = 0; missed = 0
    for (k = 1; k <= nb; k++) {
        n = bname[k]
        ng = split(bgoal[n] == "-" ? "" : bgoal[n], gs, ",")
        shown = ""; status = ""; derived = ""
        for (j = 1; j <= ng; j++) {
            g = gs[j]
            if (g ~ /^\//) {            # /NAME<=X: its own row
                other = substr(g, 2); sub(/(<=|>=).*$/, "", other)
                cond = substr(g, length(other) + 2)
                rv = (mgoc[n] != "-" && mgoc[other] != "-" && mgoc[other] > 0) ? mgoc[n] / mgoc[other] : "-"
                c = check(rv, cond)
                derived = derived sprintf("%-18s %-6s %5s %10s %10s %8s  %-22s %s\n", n "/" other, "x", bprocs[n], fmtr(rv), "-", "-", cond, c < 0 ? "?" : c ? "yes" : "NO")
                if (c == 0) missed++
                continue
            }
            if (g ~ /^goc/) { v = mgoc[n]; cond = substr(g, 4) }
            else { v = mratio[n]; cond = g }
            c = check(v, cond)
            shown = shown (shown == "" ? "" : " ") g
            if (c == 0) { status = status (status == "" ? "" : ",") "NO(" g ")"; missed++ }
            else if (c < 0) status = status (status == "" ? "" : ",") "?"
        }
        if (shown != "" && status == "") status = "yes"
        if (shown == "") { shown = "-"; status = "-" }
        fl = ""
        if (failed[n, "goc"] || failed[n, "go"]) fl = sprintf("  (%d goc + %d Go runs failed)", failed[n, "goc"], failed[n, "go"])
        printf "%-18s %-6s %5s %10s %10s %8s  %-22s %s%s\n", n, bunit[n], bprocs[n], fmt(mgoc[n]), fmt(mgo[n]), fmtr(mratio[n]), shown, status, fl
        printf "%s", derived
    }
    print line
    printf "goc/Go: median of the per-round ratios. procs: GOC_MAXPROCS = GOMAXPROCS.\n"
    printf "Goals: <=X applies to goc/Go, goc<=X to the goc median, name/other to goc medians.\n"
    if (missed) printf "%d goal(s) missed.\n", missed
    if (strict && missed) exit 3
}' | tee "$BUILD/bench-results.txt"
status=$?

echo "(table saved in $BUILD/bench-results.txt; every measurement in $RAW)" >&2
if [ "$failures" -gt 0 ]; then
    note "$failures run(s) failed; their stderr is in $ERR"
    exit 1
fi
exit $status
