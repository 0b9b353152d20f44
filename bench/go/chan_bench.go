// chan_bench.go: the Go twin of bench/chan_bench.c.
//
// Usage: chan_bench_go <benchmark>
// Prints exactly one number on stdout: ns per operation (skynet: ms). The
// benchmarks are runtime/chan_test.go's, with the same setup and a fixed N;
// b.RunParallel is reproduced as GOMAXPROCS goroutines taking batches of
// parGrain iterations from a shared counter, as bench/chan_bench.c does.
// SelectProdCons's time.After(time.Hour) case is a channel nobody sends to,
// as in the C program (goc has no timers yet). See bench/chan_bench.c for
// the list.
//
// Build: GO111MODULE=off go build -o chan_bench_go bench/go/chan_bench.go
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	callsPerSched = 1000
	parGrain      = 1000
)

var parLeft int64

func pbNext(batch *int64) bool {
	if *batch > 0 {
		*batch--
		return true
	}
	n := atomic.AddInt64(&parLeft, -parGrain) + parGrain
	if n <= 0 {
		return false
	}
	if n > parGrain {
		n = parGrain
	}
	*batch = n - 1
	return true
}

func runParallel(n int64, body func()) float64 {
	atomic.StoreInt64(&parLeft, n)
	np := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < np; i++ {
		wg.Add(1)
		go func() { body(); wg.Done() }()
	}
	wg.Wait()
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func chanSync(n int64) float64 {
	procs := 2
	N := int32(n / callsPerSched / int64(procs) * int64(procs))
	c := make(chan bool, procs)
	myc := make(chan int)
	t0 := time.Now()
	for p := 0; p < procs; p++ {
		go func() {
			for {
				i := atomic.AddInt32(&N, -1)
				if i < 0 {
					break
				}
				for g := 0; g < callsPerSched; g++ {
					if i%2 == 0 {
						<-myc
						myc <- 0
					} else {
						myc <- 0
						<-myc
					}
				}
			}
			c <- true
		}()
	}
	for p := 0; p < procs; p++ {
		<-c
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

//go:noinline
func work(foo *int, k int) {
	for i := 0; i < k; i++ {
		*foo *= 2
		*foo /= 2
	}
}

func prodCons(n int64, chanSize int, sel bool) float64 {
	procs := runtime.GOMAXPROCS(-1)
	N := int32(n / callsPerSched)
	c := make(chan bool, 2*procs)
	myc := make(chan int, chanSize)
	mytimer := make(chan int)
	myclose := make(chan bool)
	t0 := time.Now()
	for p := 0; p < procs; p++ {
		go func() {
			foo := 0
			for atomic.AddInt32(&N, -1) >= 0 {
				for g := 0; g < callsPerSched; g++ {
					if sel {
						work(&foo, 100)
						select {
						case myc <- 1:
						case <-mytimer:
						case <-myclose:
						}
					} else {
						myc <- 1
					}
				}
			}
			myc <- 0
			c <- foo == 42
		}()
		go func() {
			foo := 0
		loop:
			for {
				if sel {
					select {
					case v := <-myc:
						if v == 0 {
							break loop
						}
					case <-mytimer:
					case <-myclose:
					}
					work(&foo, 100)
				} else {
					if <-myc == 0 {
						break loop
					}
				}
			}
			c <- foo == 42
		}()
	}
	for p := 0; p < procs; p++ {
		<-c
		<-c
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func fillDrain(myc chan int) {
	for i := 0; i < 100; i++ {
		myc <- 0
	}
	for i := 0; i < 100; i++ {
		<-myc
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chan_bench_go <benchmark>")
		os.Exit(1)
	}
	var v float64
	switch os.Args[1] {
	case "ChanSync":
		v = chanSync(2000000)
	case "ChanProdCons0":
		v = prodCons(2000000, 0, false)
	case "ChanProdCons10":
		v = prodCons(4000000, 10, false)
	case "ChanProdCons100":
		v = prodCons(10000000, 100, false)
	case "ChanUncontended":
		v = runParallel(200000, func() {
			myc := make(chan int, 100)
			var b int64
			for pbNext(&b) {
				fillDrain(myc)
			}
		})
	case "ChanContended":
		myc := make(chan int, 100*runtime.GOMAXPROCS(0))
		v = runParallel(30000, func() {
			var b int64
			for pbNext(&b) {
				fillDrain(myc)
			}
		})
	case "SelectUncontended":
		v = runParallel(10000000, func() {
			myc1 := make(chan int, 1)
			myc2 := make(chan int, 1)
			myc1 <- 0
			var b int64
			for pbNext(&b) {
				select {
				case <-myc1:
					myc2 <- 0
				case <-myc2:
					myc1 <- 0
				}
			}
		})
	case "SelectSyncContended":
		myc1 := make(chan int)
		myc2 := make(chan int)
		myc3 := make(chan int)
		done := make(chan int)
		v = runParallel(1000000, func() {
			go func() {
				for {
					select {
					case myc1 <- 0:
					case myc2 <- 0:
					case myc3 <- 0:
					case <-done:
						return
					}
				}
			}()
			var b int64
			for pbNext(&b) {
				select {
				case <-myc1:
				case <-myc2:
				case <-myc3:
				}
			}
		})
		close(done)
	case "SelectProdCons":
		v = prodCons(2000000, 128, true)
	case "SelectNonblock":
		myc1 := make(chan int)
		myc2 := make(chan int)
		myc3 := make(chan int, 1)
		myc4 := make(chan int, 1)
		v = runParallel(20000000, func() {
			var b int64
			for pbNext(&b) {
				select {
				case <-myc1:
				default:
				}
				select {
				case myc2 <- 0:
				default:
				}
				select {
				case <-myc3:
				default:
				}
				select {
				case myc4 <- 0:
				default:
				}
			}
		})
	case "ChanCreation":
		v = runParallel(10000000, func() {
			var b int64
			for pbNext(&b) {
				myc := make(chan int, 1)
				myc <- 0
				<-myc
			}
		})
	case "pingpong":
		n := 2000000
		ping, pong := make(chan int), make(chan int)
		var wg sync.WaitGroup
		wg.Add(2)
		t0 := time.Now()
		go func() {
			for i := 0; i < n; i++ {
				x := <-ping
				pong <- x + 1
			}
			wg.Done()
		}()
		go func() {
			x := 0
			for i := 0; i < n; i++ {
				ping <- x
				x = <-pong
			}
			if x != n {
				panic("pingpong: wrong count")
			}
			wg.Done()
		}()
		wg.Wait()
		v = float64(time.Since(t0).Nanoseconds()) / float64(n)
	case "skynet":
		c := make(chan int, 1)
		t0 := time.Now()
		go skynet(c, 0, 1000000, 10)
		sum := <-c
		v = float64(time.Since(t0).Nanoseconds()) / 1e6
		if sum != 499999500000 {
			panic("skynet: wrong sum")
		}
	default:
		fmt.Fprintf(os.Stderr, "chan_bench_go: unknown benchmark %q\n", os.Args[1])
		os.Exit(1)
	}
	fmt.Printf("%.2f\n", v)
}

func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int, div)
	var sum int
	for i := 0; i < div; i++ {
		subNum := num + i*(size/div)
		go skynet(rc, subNum, size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}
