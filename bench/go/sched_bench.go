// sched_bench.go: the Go twin of bench/sched_bench.c.
//
// Usage: sched_bench_go <benchmark>
// Prints exactly one number on stdout. Benchmarks (same names and meaning
// as in the C program):
//
//	spawn          ns per goroutine: spawn and join 1e6 empty goroutines
//	yield          ns per runtime.Gosched: two goroutines, N = 5e6 each
//	parked_rss     bytes of RSS per goroutine blocked on a channel receive
//	parked_create  ns to create one such goroutine (until all are blocked)
//	parked_pte     bytes of page tables (VmPTE) per parked goroutine
//
// The parked experiment also writes all its figures to stderr, one
// "bench-also: <name> <value>" line each (see bench/run.sh).
//
// GOMAXPROCS comes from the environment, as usual. The bare register swap
// (bareswap) has no Go twin.
//
// Build: GO111MODULE=off go build -o sched_bench_go bench/go/sched_bench.go
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	spawnN  = 1000000
	yieldN  = 5000000
	parkedN = 1000000
)

// rssBytes returns the resident set size from /proc/self/statm.
func rssBytes() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fatal("read /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		fatal("bad /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		fatal("bad /proc/self/statm: %q", b)
	}
	return pages * float64(os.Getpagesize())
}

// vmPTEBytes returns VmPTE from /proc/self/status.
func vmPTEBytes() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fatal("read /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "VmPTE:") {
			f := strings.Fields(line[len("VmPTE:"):])
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	fatal("no VmPTE in /proc/self/status")
	return 0
}

func benchSpawn() float64 {
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < spawnN; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / spawnN
}

func benchYield() float64 {
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			for i := 0; i < yieldN; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / (2 * yieldN)
}

// benchParked runs the parked experiment once and returns the figure that
// which names.
func benchParked(which string) float64 {
	gate := make(chan struct{})
	var started int64
	var done sync.WaitGroup

	rss0 := rssBytes()
	pte0 := vmPTEBytes()
	t0 := time.Now()
	for i := 0; i < parkedN; i++ {
		done.Add(1)
		go func() {
			atomic.AddInt64(&started, 1)
			<-gate
			done.Done()
		}()
	}
	for atomic.LoadInt64(&started) < parkedN {
		runtime.Gosched()
	}
	create := float64(time.Since(t0).Nanoseconds()) / parkedN
	rss1 := rssBytes()
	pte1 := vmPTEBytes()

	t1 := time.Now()
	close(gate)
	done.Wait()
	wake := float64(time.Since(t1).Nanoseconds()) / parkedN

	rss := (rss1 - rss0) / parkedN
	pte := (pte1 - pte0) / parkedN
	// The experiment's other figures, for bench/run.sh to reuse;
	// parked_wake is for information only.
	fmt.Fprintf(os.Stderr, "bench-also: parked_rss %.2f\nbench-also: parked_create %.2f\n"+
		"bench-also: parked_pte %.2f\nbench-also: parked_wake %.2f\n", rss, create, pte, wake)

	switch which {
	case "parked_rss":
		return rss
	case "parked_create":
		return create
	default: // parked_pte
		return pte
	}
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sched_bench_go: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fatal("usage: sched_bench_go spawn|yield|parked_rss|parked_create|parked_pte")
	}
	var v float64
	switch name := os.Args[1]; name {
	case "spawn":
		v = benchSpawn()
	case "yield":
		v = benchYield()
	case "parked_rss", "parked_create", "parked_pte":
		v = benchParked(name)
	default:
		fatal("unknown benchmark %q (bareswap has no Go twin)", name)
	}
	fmt.Printf("%.2f\n", v)
}
