// Sends bursts of the same review the way the API server does: Go's HTTP/2 client, requests multiplexed on as few
// connections as the server's stream limit allows, the first ones sent before the server's settings are known. Each
// round starts on new connections. Prints, per round, how many answers had each status, how many requests failed
// outright, and when the last answer came.
//
//	python3 bench/make-review.py 10000 /tmp/update-1mib.json
//	go run bench/h2-burst.go /tmp/update-1mib.json https://localhost:8443/mutate 4 16    # file url rounds concurrency
package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: go run bench/h2-burst.go REVIEW.json URL ROUNDS CONCURRENCY")
		os.Exit(2)
	}
	body, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	rounds, _ := strconv.Atoi(os.Args[3])
	concurrency, _ := strconv.Atoi(os.Args[4])
	for round := 1; round <= rounds; round++ {
		// A throw-away certificate on loopback: nothing to verify against.
		transport := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
		client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
		var mu sync.Mutex
		statuses := map[string]int{}
		var last time.Duration
		var wg sync.WaitGroup
		start := time.Now()
		for i := 0; i < concurrency; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				response, err := client.Post(os.Args[2], "application/json", bytes.NewReader(body))
				outcome := fmt.Sprint("error: ", err)
				if err == nil {
					io.Copy(io.Discard, response.Body)
					response.Body.Close()
					outcome = response.Proto + " " + strconv.Itoa(response.StatusCode)
				}
				mu.Lock()
				statuses[outcome]++
				if elapsed := time.Since(start); elapsed > last {
					last = elapsed
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		transport.CloseIdleConnections()
		keys := make([]string, 0, len(statuses))
		for k := range statuses {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Printf("round %d:", round)
		for _, k := range keys {
			fmt.Printf(" %s x%d;", k, statuses[k])
		}
		fmt.Printf(" last answer after %d ms\n", last.Milliseconds())
	}
}
