// net_bench.go: the Go twin of bench/net_bench.c.
//
// Usage: net_bench_go echo_rps | echo_p99
// Prints exactly one number on stdout: round trips per second (echo_rps) or
// the 99th percentile round trip in microseconds (echo_p99). One process: a
// goroutine-per-connection echo server and 100 client goroutines making
// 10,000 round trips of 64 bytes each over loopback; the clock starts once
// every client has connected. Both figures also go to stderr as
// "bench-also:" lines, for bench/run.sh.
//
// Build: GO111MODULE=off go build -o net_bench_go bench/go/net_bench.go
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"time"
)

const (
	clients = 100
	rounds  = 10000
	msg     = 64
)

func serve(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		if _, err := c.Write(buf[:n]); err != nil {
			break
		}
	}
	c.Close()
}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "echo_rps" && os.Args[1] != "echo_p99") {
		fmt.Fprintln(os.Stderr, "usage: net_bench_go echo_rps|echo_p99")
		os.Exit(1)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	addr := l.Addr().String()
	lat := make([]float64, clients*rounds)
	var connected, done sync.WaitGroup
	start := make(chan struct{})
	connected.Add(clients)
	done.Add(clients)
	for id := 0; id < clients; id++ {
		go func(id int) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				panic(err)
			}
			connected.Done()
			<-start
			out := bytes.Repeat([]byte{byte('a' + id%26)}, msg)
			in := make([]byte, msg)
			l := lat[id*rounds : (id+1)*rounds]
			for i := 0; i < rounds; i++ {
				t0 := time.Now()
				if _, err := c.Write(out); err != nil {
					panic(err)
				}
				if _, err := io.ReadFull(c, in); err != nil {
					panic(err)
				}
				l[i] = float64(time.Since(t0).Nanoseconds())
			}
			if !bytes.Equal(in, out) {
				panic("echo: wrong bytes")
			}
			c.Close()
			done.Done()
		}(id)
	}
	connected.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	el := time.Since(t0)
	sort.Float64s(lat)
	rps := float64(clients*rounds) / el.Seconds()
	p99 := lat[int(float64(clients*rounds)*0.99)] / 1e3
	fmt.Fprintf(os.Stderr, "net_bench_go: %.0f req/s, p50 %.1f us, p99 %.1f us\n", rps,
		lat[clients*rounds/2]/1e3, p99)
	fmt.Fprintf(os.Stderr, "bench-also: echo_rps %.1f\nbench-also: echo_p99 %.1f\n", rps, p99)
	if os.Args[1] == "echo_rps" {
		fmt.Printf("%.1f\n", rps)
	} else {
		fmt.Printf("%.1f\n", p99)
	}
}
