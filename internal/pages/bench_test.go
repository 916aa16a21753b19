package pages

import "testing"

// BenchmarkLoad is the start-up cost of the built-in pages, paid by each program part that shows pages.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender is the cost of one 403 page.
func BenchmarkRender(b *testing.B) {
	s, err := Load("")
	if err != nil {
		b.Fatal(err)
	}
	data := samples()[ForbiddenPage][0]
	var sink discard
	for b.Loop() {
		if err := s.Render(sink, data); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
