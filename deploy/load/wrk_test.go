package main

import (
	"strings"
	"testing"
	"time"
)

const wrkOK = `Running 5s test @ http://127.0.0.1:40000/noauth_route
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   530.12us  312.00us   9.01ms   90.00%
    Req/Sec    30.12k     1.20k   33.00k    70.00%
  Latency Distribution
     50%  412.00us
     75%  600.00us
     90%    1.10ms
     99%    2.10ms
  301234 requests in 5.00s, 45.12MB read
Requests/sec:  60234.12
Transfer/sec:      9.01MB
`

const wrkErrors = `Running 1s test @ http://127.0.0.1:18777/x
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    44.32ms    8.75ms  48.06ms   95.45%
    Req/Sec    44.00      8.43    60.00     80.00%
  Latency Distribution
     50%   47.48ms
     75%   47.96ms
     90%   48.01ms
     99%    1.06s
  44 requests in 1.00s, 5.39KB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 44
Requests/sec:     43.97
Transfer/sec:      5.38KB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOK)
	if err != nil {
		t.Fatal(err)
	}
	if r.rate != 60234.12 || r.p50 != 412*time.Microsecond || r.p99 != 2100*time.Microsecond || r.errors != 0 {
		t.Errorf("parseWrk = %+v", r)
	}

	r, err = parseWrk(wrkErrors)
	if err != nil {
		t.Fatal(err)
	}
	if r.errors != 47 || r.p99 != 1060*time.Millisecond || !strings.Contains(r.firstError, "Non-2xx") || !strings.Contains(r.firstError, "timeout 2") {
		t.Errorf("parseWrk with errors = %+v, want 44 + 3 errors named", r)
	}

	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("output without figures parsed")
	}
	if _, err := parseWrk(strings.Replace(wrkOK, "     99%    2.10ms\n", "", 1)); err == nil {
		t.Error("output without p99 parsed")
	}
}

func TestWrkDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{5 * time.Second: "5s", 200 * time.Millisecond: "1s", 1500 * time.Millisecond: "2s"} {
		if got := wrkDuration(in); got != want {
			t.Errorf("wrkDuration(%v) = %q, want %q", in, got, want)
		}
	}
}
