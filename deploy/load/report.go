package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the report: one route of one server configuration, over every round.
type row struct {
	server     string // the server configuration, e.g. "cookie sessions"
	route      string // e.g. "protected /auth_route"
	base       bool   // the row to which the server's other rows are compared
	rates      []float64
	p50s, p99s []time.Duration
	errors     int
	firstError string
	skipped    string // why the row was not measured, when it was not
}

// add folds one round into the row.
func (r *row) add(rr roundResult) {
	r.rates = append(r.rates, rr.rate)
	r.p50s = append(r.p50s, rr.p50)
	r.p99s = append(r.p99s, rr.p99)
	r.errors += rr.errors
	if r.firstError == "" {
		r.firstError = rr.firstError
	}
}

// median returns the median of xs (the mean of the middle two for an even count), or 0 for none.
func median[T float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratios returns, for each row, its median rate divided by that of the base row of the same server, or 0 when
// the row was skipped or its server has no measured base row.
func ratios(rows []row) []float64 {
	bases := map[string]float64{}
	for _, r := range rows {
		if r.base && r.skipped == "" {
			bases[r.server] = median(r.rates)
		}
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		if base := bases[r.server]; base > 0 && r.skipped == "" {
			out[i] = median(r.rates) / base
		}
	}
	return out
}

// tableHeader names the report's columns.
var tableHeader = []string{"server", "route", "req/s", "p50", "p99", "errors", "× base"}

// cells returns the report's rows as text cells, in tableHeader's order.
func cells(rows []row) [][]string {
	rs := ratios(rows)
	out := make([][]string, len(rows))
	for i, r := range rows {
		if r.skipped != "" {
			out[i] = []string{r.server, r.route, "skipped: " + r.skipped, "", "", "", ""}
			continue
		}
		out[i] = []string{
			r.server, r.route, thousands(median(r.rates)),
			formatLatency(median(r.p50s)), formatLatency(median(r.p99s)),
			strconv.Itoa(r.errors), fmt.Sprintf("%.2f", rs[i]),
		}
	}
	return out
}

// writeMarkdown writes the rows as a Markdown table, numbers right-aligned.
func writeMarkdown(w io.Writer, rows []row) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(tableHeader, " | "))
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|")
	for _, c := range cells(rows) {
		fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
	}
}

// writeText writes the rows as an aligned plain-text table.
func writeText(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	line := func(c []string) { fmt.Fprintf(tw, "%s\t\n", strings.Join(c, "\t")) }
	line(tableHeader)
	for _, c := range cells(rows) {
		line(c)
	}
	tw.Flush()
}

// thousands formats x rounded to an integer with commas between groups of three digits: 52289.4 -> "52,289".
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatLatency writes d in milliseconds with three significant digits or more: 0.412 ms, 1.23 ms, 12.3 ms, 123 ms.
func formatLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f ms", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.0f ms", ms)
	}
}
