// sync_bench.go: the Go twin of bench/sync_bench.c (same names, same
// meaning; one number, ns per operation). One goroutine per GOMAXPROCS
// unless stated, as b.RunParallel.
//
// Build: GO111MODULE=off go build -o sync_bench_go bench/go/sync_bench.go
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var sink int

// Seed 001's configs.
type iConfig interface {
	Get() []int
	Set([]int)
}

type MutexConfig struct {
	data []int
	mu   sync.Mutex
}

func (c *MutexConfig) Get() []int  { c.mu.Lock(); defer c.mu.Unlock(); return c.data }
func (c *MutexConfig) Set(n []int) { c.mu.Lock(); defer c.mu.Unlock(); c.data = n }

type RWMutexConfig struct {
	rw   sync.RWMutex
	data []int
}

func (c *RWMutexConfig) Get() []int  { c.rw.RLock(); defer c.rw.RUnlock(); return c.data }
func (c *RWMutexConfig) Set(n []int) { c.rw.Lock(); defer c.rw.Unlock(); c.data = n }

type Config struct{ v atomic.Value }

func (c *Config) Get() []int  { return *c.v.Load().(*[]int) }
func (c *Config) Set(n []int) { c.v.Store(&n) }

func runPar(n int, total int, fn func(id, iters int)) float64 {
	per := total / n
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			fn(id, per)
		}(i)
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(per*n)
}

func config(c iConfig) func(int, int) {
	return func(id, iters int) {
		s := 0
		for i := 0; i < iters; i++ {
			c.Set([]int{100})
			s += len(c.Get())
			s += len(c.Get())
			s += len(c.Get())
			c.Set([]int{100})
			s += len(c.Get())
			s += len(c.Get())
		}
		sink = s
	}
}

type paddedMutex struct {
	m sync.Mutex
	_ [120]byte
}

type paddedWG struct {
	wg sync.WaitGroup
	_  [112]byte
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sync_bench_go <benchmark>")
		os.Exit(1)
	}
	procs := runtime.GOMAXPROCS(0)
	var ns float64
	switch os.Args[1] {
	case "config_mutex":
		ns = runPar(procs, 1000000, config(&MutexConfig{data: []int{1, 2, 3}}))
	case "config_rwmutex":
		ns = runPar(procs, 1000000, config(&RWMutexConfig{data: []int{1, 2, 3}}))
	case "config_atomic", "config_atomic_cow":
		c := &Config{}
		c.Set([]int{1, 2, 3})
		ns = runPar(procs, 2000000, config(c))
	case "mutex_uncontended":
		ms := make([]paddedMutex, procs)
		ns = runPar(procs, 50000000, func(id, iters int) {
			m := &ms[id].m
			for i := 0; i < iters; i++ {
				m.Lock()
				m.Unlock()
			}
		})
	case "mutex_8", "mutex_1000":
		n := 8
		if os.Args[1] == "mutex_1000" {
			n = 1000
		}
		var mu sync.Mutex
		counter := 0
		ns = runPar(n, 10000000, func(id, iters int) {
			for i := 0; i < iters; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		})
		if counter != 10000000/n*n {
			fmt.Fprintln(os.Stderr, "counter is off")
			os.Exit(1)
		}
	case "rwmutex_read":
		var rw sync.RWMutex
		ns = runPar(procs, 20000000, func(id, iters int) {
			for i := 0; i < iters; i++ {
				if i%100 == 0 {
					rw.Lock()
					rw.Unlock()
				} else {
					rw.RLock()
					rw.RUnlock()
				}
			}
		})
	case "waitgroup":
		wgs := make([]paddedWG, procs)
		ns = runPar(procs, 20000000, func(id, iters int) {
			w := &wgs[id].wg
			for i := 0; i < iters; i++ {
				w.Add(1)
				w.Done()
				w.Wait()
			}
		})
	case "once":
		var once sync.Once
		f := func() {}
		ns = runPar(procs, 200000000, func(id, iters int) {
			for i := 0; i < iters; i++ {
				once.Do(f)
			}
		})
	case "pool":
		var p sync.Pool
		ns = runPar(procs, 20000000, func(id, iters int) {
			s := 0
			for i := 0; i < iters; i++ {
				p.Put(1)
				if v, ok := p.Get().(int); ok {
					s += v
				}
			}
			sink = s
		})
	case "map_load":
		const hits = 1000
		var m sync.Map
		for i := 0; i < hits; i++ {
			m.LoadOrStore(int64(i), int64(i))
		}
		ns = runPar(procs, 50000000, func(id, iters int) {
			s := int64(0)
			k := int64(id * 31)
			for i := 0; i < iters; i++ {
				k++
				if k >= hits {
					k = 0
				}
				if v, ok := m.Load(k); ok {
					s += v.(int64)
				}
			}
			sink = int(s)
		})
	case "cond_broadcast":
		// 1,000 goroutines in Cond.Wait; ns from the broadcast until the
		// last has woken and left the lock (median of 50 rounds).
		const n = 1000
		var mu sync.Mutex
		cond := sync.NewCond(&mu)
		gen := 0
		var times []float64
		for r := 0; r < 50; r++ {
			var started sync.WaitGroup
			var woken int32
			all := make(chan struct{})
			started.Add(n)
			for i := 0; i < n; i++ {
				go func() {
					mu.Lock()
					g := gen
					started.Done()
					for gen == g {
						cond.Wait()
					}
					mu.Unlock()
					if atomic.AddInt32(&woken, 1) == n {
						close(all)
					}
				}()
			}
			started.Wait()
			time.Sleep(2 * time.Millisecond) // until all are parked in the wait
			t0 := time.Now()
			mu.Lock() // the last waiter is in its wait once we have it
			gen++
			cond.Broadcast()
			mu.Unlock()
			<-all
			times = append(times, float64(time.Since(t0).Nanoseconds()))
		}
		sort.Float64s(times)
		ns = times[len(times)/2]
	default:
		fmt.Fprintln(os.Stderr, "unknown benchmark")
		os.Exit(1)
	}
	fmt.Printf("%.2f\n", ns)
}
