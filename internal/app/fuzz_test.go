package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/config"
	"github.com/outcry/outcry/internal/openapi/oatest"
)

// gen draws choices from the fuzzer's bytes (zero once they run out).
type gen struct{ b []byte }

func (g *gen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *gen) pick(n int) int { return int(g.byte()) % n }

// str is a string for a schema: valid mostly, at its maxLength, past it,
// or the fuzzer's own bytes.
func (g *gen) str(s *openapi3.Schema) any {
	if len(s.Enum) > 0 && g.pick(4) != 0 {
		return s.Enum[g.pick(len(s.Enum))]
	}
	max := 40
	if s.MaxLength != nil {
		max = int(*s.MaxLength)
	}
	switch g.pick(6) {
	case 0:
		return strings.Repeat("a", max) // at the limit
	case 1:
		return strings.Repeat("b", max+1) // past it
	case 2:
		n := g.pick(32)
		out := make([]byte, 0, n)
		for range n {
			out = append(out, g.byte())
		}
		return string(out)
	case 3:
		return ""
	case 4:
		return "netflix-baby"
	default:
		return "ann" + fmt.Sprint(g.pick(250)) + "@example.org"
	}
}

// value is a value for a schema, sometimes of the wrong type.
func (g *gen) value(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 4 {
		return nil
	}
	if g.pick(16) == 0 { // the wrong type
		return []any{1, "x", true, nil, map[string]any{}}[g.pick(5)]
	}
	if s.Const != nil {
		return s.Const
	}
	switch {
	case s.Type.Is("object") || len(s.Properties) > 0:
		out := map[string]any{}
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range s.Properties {
				if !yield(k) {
					return
				}
			}
		}) {
			required := slices.Contains(s.Required, name)
			if required && g.pick(12) == 0 || !required && g.pick(2) == 0 {
				continue // drop a required field now and then
			}
			out[name] = g.value(s.Properties[name].Value, depth+1)
		}
		if g.pick(20) == 0 {
			out["unknown_field"] = 1
		}
		return out
	case s.Type.Is("array"):
		n := g.pick(4)
		out := make([]any, 0, n)
		for range n {
			if s.Items != nil {
				out = append(out, g.value(s.Items.Value, depth+1))
			}
		}
		return out
	case s.Type.Is("integer") || s.Type.Is("number"):
		lo, hi := -5.0, 1000.0
		if s.Min != nil {
			lo = *s.Min
		}
		if s.Max != nil {
			hi = *s.Max
		}
		return []float64{lo, lo - 1, hi, hi + 1, float64(g.pick(100))}[g.pick(5)]
	case s.Type.Is("boolean"):
		return g.pick(2) == 0
	default:
		return g.str(s)
	}
}

type operation struct {
	method, path string
	op           *openapi3.Operation
	params       openapi3.Parameters
}

var (
	fuzzOnce sync.Once
	fuzzBase string
	fuzzOps  []operation
)

// fuzzServer builds outcry once for the fuzz target, as cmd/outcry builds
// it, and serves its handlers without starting the senders: nothing it
// takes in (a webhook endpoint's address included) ever leaves this
// machine, and OUTCRY_WEBHOOKS_INSECURE=on keeps addresses from being
// looked up.
func fuzzServer(f *testing.F) string {
	fuzzOnce.Do(func() {
		dir, err := openTemp()
		if err != nil {
			f.Fatal(err)
		}
		env := map[string]string{"OUTCRY_DB": filepath.Join(dir, "outcry.db"), "OUTCRY_TARGETS": filepath.Join(dir, "targets.yaml"),
			"OUTCRY_CAMPAIGN": filepath.Join(dir, "campaign.yaml"), "OUTCRY_ADMIN_TOKEN": token, "OUTCRY_SUBMIT_RATE": "0",
			"OUTCRY_WEBHOOKS_INSECURE": "on"}
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			f.Fatal(err)
		}
		a, err := app.Build(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			f.Fatal(err)
		}
		fuzzBase = httptest.NewServer(a.Web.Echo).URL
		doc, _, err := oatest.Doc()
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range doc.Paths.InMatchingOrder() {
			item := doc.Paths.Find(path)
			for _, m := range methods {
				if op := item.GetOperation(m); op != nil {
					fuzzOps = append(fuzzOps, operation{m, path, op, append(slices.Clone(item.Parameters), op.Parameters...)})
				}
			}
		}
		slices.SortFunc(fuzzOps, func(a, b operation) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	})
	return fuzzBase
}

// FuzzAPI sends requests generated from the OpenAPI document's schemas
// (valid and broken bodies, parameters at and past their limits, with and
// without the token) to the real handlers: no answer is a 5xx, and every
// answer matches the document.
func FuzzAPI(f *testing.F) {
	base := fuzzServer(f)
	for i := range len(fuzzOps) {
		f.Add(uint8(i), []byte{0, 0, 0, 0, 0, 4, 4, 4, 4, 5, 5, 5})
		f.Add(uint8(i), []byte{1, 1, 1, 1, 1, 1, 1, 1})
		f.Add(uint8(i), []byte("\x02\x02\x0a{\"x\":"))
	}
	f.Fuzz(func(t *testing.T, which uint8, choices []byte) {
		o := fuzzOps[int(which)%len(fuzzOps)]
		g := &gen{b: choices}
		path := o.path
		q := url.Values{}
		for _, p := range o.params {
			v := fmt.Sprint(g.value(p.Value.Schema.Value, 0))
			switch p.Value.In {
			case "path":
				if v == "" || v == "." || v == ".." {
					v = "x" + v // an empty or dot segment is another route, not this one's parameter
				}
				path = strings.ReplaceAll(path, "{"+p.Value.Name+"}", url.PathEscape(v))
			case "query":
				if p.Value.Required || g.pick(2) == 0 {
					q.Set(p.Value.Name, v)
				}
			}
		}
		var body io.Reader
		ctype := ""
		if rb := o.op.RequestBody; rb != nil && rb.Value.Content.Get("application/json") == nil {
			// A body that is not JSON (the campaign's image): the fuzzer's
			// bytes under one of the document's types for it.
			types := slices.Sorted(maps.Keys(rb.Value.Content))
			ctype = types[g.pick(len(types))]
			body = bytes.NewReader(g.b)
		} else if rb != nil {
			ctype = "application/json"
			switch g.pick(8) {
			case 0: // the fuzzer's bytes
				body = bytes.NewReader(g.b)
			case 1: // cut short
				b, _ := json.Marshal(g.value(rb.Value.Content.Get("application/json").Schema.Value, 0))
				body = bytes.NewReader(b[:len(b)/2])
			case 2:
				ctype = "text/plain"
				body = strings.NewReader("not json")
			default:
				b, _ := json.Marshal(g.value(rb.Value.Content.Get("application/json").Schema.Value, 0))
				body = bytes.NewReader(b)
			}
		}
		u := base + path
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		req, err := http.NewRequest(o.method, u, body)
		if err != nil {
			return // a path the client itself refuses to send
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if g.pick(10) != 0 {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := oatest.Client(t).Do(req) // checks the answer against the document
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s answered %d: %s", o.method, u, resp.StatusCode, b)
		}
	})
}

// openTemp is a folder for the fuzz target's database, kept for the whole
// run (f.TempDir would go with the first input's test).
func openTemp() (string, error) { return os.MkdirTemp("", "outcry-fuzz-") }
