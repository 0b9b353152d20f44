// timer_bench.go: the Go twin of bench/timer_bench.c (same names, same
// meaning, same pseudo-random durations; one number each).
//
// Build: GO111MODULE=off go build -o timer_bench_go bench/go/timer_bench.go
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// splitmix64, as the C side.
func mix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// sleepers: n goroutines each sleep d in [0, 100 ms]; prints the mean
// oversleep (us) or the wall time (ms), the other on stderr for run.sh.
func sleepers(n int, name string, wantWall bool) {
	over := make([]int64, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := time.Duration(mix(uint64(i)) % uint64(100*time.Millisecond+1))
			s := time.Now()
			time.Sleep(d)
			over[i] = int64(time.Since(s) - d)
		}(i)
	}
	wg.Wait()
	wallMs := float64(time.Since(t0).Nanoseconds()) / 1e6
	var sum float64
	for _, o := range over {
		sum += float64(o)
	}
	meanUs := sum / float64(n) / 1e3
	if wantWall {
		fmt.Fprintf(os.Stderr, "bench-also: %s %.3f\n", name, meanUs)
		fmt.Printf("%.3f\n", wallMs)
	} else {
		fmt.Fprintf(os.Stderr, "bench-also: %s_wall %.3f\n", name, wallMs)
		fmt.Printf("%.3f\n", meanUs)
	}
}

const churnTimers = 1000000

// churn: 1,000,000 timers over one goroutine per P: NewTimer, Reset, Stop;
// ns per operation.
func churn() float64 {
	procs := runtime.GOMAXPROCS(0)
	per := churnTimers / procs
	var wg sync.WaitGroup
	t0 := time.Now()
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			seed := uint64(p) * churnTimers
			ts := make([]*time.Timer, per)
			for i := range ts {
				ts[i] = time.NewTimer(time.Hour + time.Duration(mix(seed+uint64(i))%uint64(time.Second)))
			}
			for i := range ts {
				ts[i].Reset(time.Hour + time.Duration(mix(^(seed+uint64(i)))%uint64(time.Second)))
			}
			for i := range ts {
				ts[i].Stop()
			}
		}(p)
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(3*per*procs)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: timer_bench_go <benchmark>")
		os.Exit(1)
	}
	switch b := os.Args[1]; b {
	case "sleep100k", "sleep100k_wall":
		sleepers(100000, "sleep100k", b == "sleep100k_wall")
	case "sleep10k", "sleep10k_wall":
		sleepers(10000, "sleep10k", b == "sleep10k_wall")
	case "timer_churn":
		fmt.Printf("%.2f\n", churn())
	default:
		fmt.Fprintln(os.Stderr, "timer_bench_go: unknown benchmark", b)
		os.Exit(1)
	}
}
