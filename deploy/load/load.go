package main

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"sync"
	"time"
)

// requestTimeout bounds one request of the load; a request that takes longer counts as an error.
const requestTimeout = 10 * time.Second

// newLoadClient returns a keep-alive client that holds exactly conns connections to one server and never
// follows redirects: a redirect to the login page is an error of the measurement, not a page to fetch.
func newLoadClient(conns int) *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// roundResult is what one round of load on one route gave.
type roundResult struct {
	rate       float64 // answers with status 200 per second
	p50, p99   time.Duration
	errors     int    // other statuses and failed requests
	firstError string // the first of those, for the report
}

// engine sends load to url with header on conns connections for d; loadRound and wrkRound are engines.
type engine func(ctx context.Context, url string, header http.Header, conns int, d time.Duration) (roundResult, error)

// workerResult is one connection's share of a round of loadRound.
type workerResult struct {
	ok, errors int
	firstError string
	latency    histogram // of every request, errors included
}

// goEngine returns the engine that sends load with client, a newLoadClient.
func goEngine(client *http.Client) engine {
	return func(ctx context.Context, url string, header http.Header, conns int, d time.Duration) (roundResult, error) {
		return loadRound(ctx, client, url, header, conns, d)
	}
}

// loadRound sends GET url with header on conns connections at once, each sending its next request as soon as
// the previous answer is read, until d has passed; requests in flight then complete. Any status but 200 is an
// error. It returns early with ctx's error when ctx ends.
func loadRound(ctx context.Context, client *http.Client, url string, header http.Header, conns int, d time.Duration) (roundResult, error) {
	results := make([]workerResult, conns)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = worker(ctx, client, url, header, deadline) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return roundResult{}, err
	}
	var total workerResult
	for _, r := range results {
		total.ok += r.ok
		total.errors += r.errors
		if total.firstError == "" {
			total.firstError = r.firstError
		}
		total.latency.merge(&r.latency)
	}
	return roundResult{
		rate: float64(total.ok) / elapsed.Seconds(),
		p50:  total.latency.quantile(0.50), p99: total.latency.quantile(0.99),
		errors: total.errors, firstError: total.firstError,
	}, nil
}

// worker is one connection's loop of loadRound.
func worker(ctx context.Context, client *http.Client, url string, header http.Header, deadline time.Time) workerResult {
	var r workerResult
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		r.errors, r.firstError = 1, err.Error()
		return r
	}
	req.Header = header.Clone()
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(deadline) {
			break
		}
		// The request is reused: net/http allows it once the previous response's body is closed.
		resp, err := client.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		r.latency.record(time.Since(t0))
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return r
			}
			r.errors++
			if r.firstError == "" {
				r.firstError = err.Error()
			}
		case resp.StatusCode != http.StatusOK:
			r.errors++
			if r.firstError == "" {
				r.firstError = fmt.Sprintf("%s answered %s (Location %q)", url, resp.Status, resp.Header.Get("Location"))
			}
		default:
			r.ok++
		}
	}
	return r
}

// subBits sets the histogram's precision: 2^subBits buckets per power of two, so that a quantile it reports is
// within 1/2^subBits (1.6 %) of the true one.
const subBits = 6

// histogram counts durations in log-linear buckets: constant memory and constant time per request, however
// long the round.
type histogram struct {
	counts [(64 - subBits + 1) << subBits]uint64
	n      uint64
}

// bucketOf returns the bucket of a duration of ns nanoseconds: below 2^subBits one bucket per nanosecond, above
// it 2^subBits buckets per power of two.
func bucketOf(ns uint64) int {
	if ns < 1<<subBits {
		return int(ns)
	}
	shift := bits.Len64(ns) - 1 - subBits
	return (shift+1)<<subBits + int(ns>>shift) - 1<<subBits
}

// bucketLow is the smallest duration, in nanoseconds, of bucket b.
func bucketLow(b int) uint64 {
	if b < 1<<subBits {
		return uint64(b)
	}
	shift := b>>subBits - 1
	return uint64(b&(1<<subBits-1)+1<<subBits) << shift
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(uint64(max(d, 0)))]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the duration below which a fraction q of the recorded ones lie (the low end of the bucket
// holding it), or 0 when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank >= h.n {
		rank = h.n - 1
	}
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen > rank {
			return time.Duration(bucketLow(b))
		}
	}
	return 0 // not reached: the counts add up to n
}
