package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	// Every value falls in a bucket whose low end is at most it and within the promised precision of it, and
	// buckets are ordered like the values.
	prev := -1
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 412_000, 1 << 40, 1<<64 - 1} {
		b := bucketOf(v)
		low := bucketLow(b)
		if low > v || float64(v-low) > float64(v)/(1<<subBits) {
			t.Errorf("bucketOf(%d) = %d with low end %d: not within 1/%d", v, b, low, 1<<subBits)
		}
		if b <= prev {
			t.Errorf("bucketOf(%d) = %d, not above the previous value's %d", v, b, prev)
		}
		prev = b
	}
	if b := bucketOf(1<<64 - 1); b >= len(histogram{}.counts) {
		t.Fatalf("largest value's bucket %d out of range %d", b, len(histogram{}.counts))
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h, other histogram
	if h.quantile(0.5) != 0 {
		t.Error("empty histogram has a median")
	}
	for i := 1; i <= 99; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	other.record(time.Second)
	h.merge(&other)
	near := func(got, want time.Duration) bool {
		return got <= want && float64(want-got) <= float64(want)/(1<<subBits)
	}
	if got := h.quantile(0.50); !near(got, 51*time.Millisecond) {
		t.Errorf("p50 = %v, want about 51ms", got)
	}
	if got := h.quantile(0.99); !near(got, time.Second) {
		t.Errorf("p99 = %v, want about 1s (the 100th of 100)", got)
	}
}

// TestLoadRound checks that every connection keeps sending for the duration and that anything but a 200, a
// redirect included, is counted as an error and named.
func TestLoadRound(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.Header.Get("Cookie") != "s=1" {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	client := newLoadClient(4)
	defer client.CloseIdleConnections()

	r, err := loadRound(context.Background(), client, srv.URL, http.Header{"Cookie": {"s=1"}}, 4, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.errors != 0 || r.rate <= 0 || r.p50 <= 0 || r.p99 < r.p50 {
		t.Fatalf("good round = %+v, want no errors, a rate and ordered latencies", r)
	}

	before := served.Load()
	r, err = loadRound(context.Background(), client, srv.URL, nil, 4, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.errors == 0 || int64(r.errors) != served.Load()-before || r.rate != 0 || !strings.Contains(r.firstError, "302") {
		t.Fatalf("redirected round = %+v (served %d), want every request an error naming the 302", r, served.Load()-before)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := loadRound(ctx, client, srv.URL, nil, 4, time.Second); err == nil {
		t.Fatal("a cancelled round returned no error")
	}
}
