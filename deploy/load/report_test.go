package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{7}, 7},
		{"odd, unsorted", []float64{3, 1, 2}, 2},
		{"even: mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			if got := median(tc.in); got != tc.want {
				t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
			}
			if !equal(in, tc.in) {
				t.Errorf("median reordered its argument: %v, was %v", tc.in, in)
			}
		})
	}
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median of durations = %v, want 2", got)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.4: "999", 999.5: "1,000", 52289.4: "52,289", 1234567: "1,234,567"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatLatency(t *testing.T) {
	for in, want := range map[time.Duration]string{
		412 * time.Microsecond:    "0.412 ms",
		1234 * time.Microsecond:   "1.23 ms",
		12345 * time.Microsecond:  "12.3 ms",
		123456 * time.Microsecond: "123 ms",
	} {
		if got := formatLatency(in); got != want {
			t.Errorf("formatLatency(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteMarkdown checks the table a reader pastes: the ratio is to the open route of the same server, over
// medians; errors are shown; a skipped row says why and has no figures.
func TestWriteMarkdown(t *testing.T) {
	rows := []row{
		{server: "cookie", route: "open", base: true, rates: []float64{100, 300, 200}, p50s: []time.Duration{time.Millisecond}, p99s: []time.Duration{3 * time.Millisecond}},
		{server: "cookie", route: "protected", rates: []float64{190, 150}, p50s: []time.Duration{2 * time.Millisecond}, p99s: []time.Duration{4 * time.Millisecond}, errors: 2},
		{server: "redis", route: "open", base: true, skipped: "redis-server not found"},
		{server: "redis", route: "protected", skipped: "redis-server not found"},
	}
	var buf bytes.Buffer
	writeMarkdown(&buf, rows)
	want := `| server | route | req/s | p50 | p99 | errors | × base |
|---|---|---:|---:|---:|---:|---:|
| cookie | open | 200 | 1.00 ms | 3.00 ms | 0 | 1.00 |
| cookie | protected | 170 | 2.00 ms | 4.00 ms | 2 | 0.85 |
| redis | open | skipped: redis-server not found |  |  |  |  |
| redis | protected | skipped: redis-server not found |  |  |  |  |
`
	if buf.String() != want {
		t.Errorf("markdown table:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	writeText(&buf, rows)
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 5 || !strings.Contains(lines[2], "0.85") {
		t.Errorf("text table:\n%s", buf.String())
	}
}
