// context_bench.go: the Go twin of bench/context_bench.c (same names, same
// meaning; one number each). Go's context benchmarks (context/
// benchmark_test.go) as plain programs, a cancel broadcast, singleflight
// and errgroup. errgroup and singleflight are golang.org/x/sync packages,
// not in the standard library: minimal equivalents of their algorithms
// (WaitGroup + Once; mutex + map + WaitGroup per call) are written below,
// so that the twin builds without modules or network.
//
// Build: GO111MODULE=off go build -o context_bench_go bench/go/context_bench.go
package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// runPar: n goroutines share total iterations (b.RunParallel); ns/iteration.
func runPar(n, total int, fn func(iters int)) float64 {
	per := total / n
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(per)
		}()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(per*n)
}

// loop: ns per call of fn over iters calls.
func loop(iters int, fn func()) float64 {
	t0 := time.Now()
	for i := 0; i < iters; i++ {
		fn()
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(iters)
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

var sink int

// ---- errgroup (x/sync's algorithm) ----

type group struct {
	wg      sync.WaitGroup
	errOnce sync.Once
	err     error
}

func (g *group) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.errOnce.Do(func() { g.err = err })
		}
	}()
}

func (g *group) Wait() error { g.wg.Wait(); return g.err }

// ---- singleflight (x/sync's algorithm) ----

type call struct {
	wg   sync.WaitGroup
	val  interface{}
	err  error
	dups int
}

type flight struct {
	mu sync.Mutex
	m  map[string]*call
}

func (g *flight) Do(key string, fn func() (interface{}, error)) (interface{}, error, bool) {
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[string]*call)
	}
	if c, ok := g.m[key]; ok {
		c.dups++
		g.mu.Unlock()
		c.wg.Wait()
		return c.val, c.err, true
	}
	c := new(call)
	c.wg.Add(1)
	g.m[key] = c
	g.mu.Unlock()
	c.val, c.err = fn()
	g.mu.Lock()
	c.wg.Done()
	if g.m[key] == c {
		delete(g.m, key)
	}
	g.mu.Unlock()
	return c.val, c.err, c.dups > 0
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: context_bench_go <benchmark>")
		os.Exit(1)
	}
	procs := runtime.GOMAXPROCS(0)
	var ns float64
	switch os.Args[1] {
	case "CommonParentCancel", "CommonParentCancel0":
		work := os.Args[1] == "CommonParentCancel"
		total := 2000000
		if !work {
			total = 5000000
		}
		root := context.WithValue(context.Background(), "key", "value")
		shared, sharedcancel := context.WithCancel(root)
		ns = runPar(procs, total, func(iters int) {
			x := 0
			for i := 0; i < iters; i++ {
				ctx, cancel := context.WithCancel(shared)
				if ctx.Value("key").(string) != "value" {
					panic("should not be reached")
				}
				if work {
					for i := 0; i < 100; i++ {
						x /= x + 1
					}
				}
				cancel()
				if work {
					for i := 0; i < 100; i++ {
						x /= x + 1
					}
				}
			}
			sink += x
		})
		sharedcancel()
	case "WithTimeout":
		// concurrency=40: 40 live timers beside the ones made and cancelled.
		perP := 40 / procs
		root := context.Background()
		var cfs []context.CancelFunc
		for i := 0; i < perP*procs; i++ {
			_, cf := context.WithTimeout(root, time.Hour)
			cfs = append(cfs, cf)
		}
		ns = runPar(procs, 200000, func(iters int) {
			wcf := make([]context.CancelFunc, 10)
			for i := 0; i < iters; i++ {
				for j := range wcf {
					_, wcf[j] = context.WithTimeout(root, time.Hour)
				}
				for _, f := range wcf {
					f()
				}
			}
		})
		for _, f := range cfs {
			f()
		}
	case "CancelTree":
		// depth=100, Root=OpenCanceler.
		ns = loop(20000, func() {
			ctx, cancel := context.WithCancel(context.Background())
			root := ctx
			for d := 0; d < 100; d++ {
				root, _ = context.WithCancel(root)
			}
			cancel()
		})
	case "CheckCanceledErr":
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ns = loop(50000000, func() {
			if ctx.Err() != nil {
				sink++
			}
		})
	case "CheckCanceledDone":
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ns = loop(50000000, func() {
			select {
			case <-ctx.Done():
				sink++
			default:
			}
		})
	case "DeepValue":
		// BenchmarkDeepValueSameGoRoutine, depth=100: a miss walks it all.
		ctx := context.Background()
		for i := 0; i < 100; i++ {
			ctx = context.WithValue(ctx, i, i)
		}
		ns = loop(2000000, func() {
			if ctx.Value(-1) != nil {
				sink++
			}
		})
	case "CancelBroadcast":
		// 1,000 goroutines blocked on Done; ns from cancel until the last
		// has woken (median of 50 rounds).
		const n = 1000
		var times []float64
		for r := 0; r < 50; r++ {
			ctx, cancel := context.WithCancel(context.Background())
			var started sync.WaitGroup
			var woken int32
			all := make(chan struct{})
			started.Add(n)
			for i := 0; i < n; i++ {
				go func() {
					started.Done()
					<-ctx.Done()
					if atomic.AddInt32(&woken, 1) == n {
						close(all)
					}
				}()
			}
			started.Wait()
			time.Sleep(2 * time.Millisecond) // until all are parked on Done
			t0 := time.Now()
			cancel()
			<-all
			times = append(times, float64(time.Since(t0).Nanoseconds()))
		}
		ns = median(times)
	case "Singleflight":
		// 1,000 goroutines call Do on one key; the call yields 10 times.
		// ns per caller (a round, spawning included, / 1,000).
		const n = 1000
		var g flight
		rounds := 200
		t0 := time.Now()
		for r := 0; r < rounds; r++ {
			var wg sync.WaitGroup
			wg.Add(n)
			for i := 0; i < n; i++ {
				go func() {
					v, _, _ := g.Do("key", func() (interface{}, error) {
						for k := 0; k < 10; k++ {
							runtime.Gosched()
						}
						return 42, nil
					})
					if v.(int) != 42 {
						panic("bad value")
					}
					wg.Done()
				}()
			}
			wg.Wait()
		}
		ns = float64(time.Since(t0).Nanoseconds()) / float64(rounds*n)
	case "ErrgroupFanout":
		// A zero group: 100 subtasks that return nil, then Wait; ns per
		// fan-out.
		ns = loop(20000, func() {
			var g group
			for i := 0; i < 100; i++ {
				g.Go(func() error { return nil })
			}
			if g.Wait() != nil {
				panic("error")
			}
		})
	default:
		fmt.Fprintln(os.Stderr, "unknown benchmark", os.Args[1])
		os.Exit(1)
	}
	fmt.Printf("%.2f\n", ns)
}
