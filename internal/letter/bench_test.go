package letter

import (
	"os"
	"strings"
	"testing"
)

var benchBody = strings.Repeat("I am writing to ask you to stop the series. It presents a crime as entertainment.\n\n", 8)

func BenchmarkValidate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := valid()
		s.Body = benchBody
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRenderer(b *testing.B) *Renderer {
	b.Helper()
	r, err := NewRenderer(os.DirFS("../../templates"))
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkRender is one copy for one target.
func BenchmarkRender(b *testing.B) {
	r := benchRenderer(b)
	d := Data{Target: Recipient{Name: "Ted Sarandos", Title: "Co-CEO", Salutation: "Mr. Sarandos"},
		Supporter: Supporter{FirstName: "Ann", LastName: "Lee", Postcode: "SW1A 1AA"}, Body: benchBody}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(d); err != nil {
			b.Fatal(err)
		}
	}
}
