package webhook

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/outcry/outcry/internal/sendlog"
)

const sample = `[
 {"email":"mp@example.gov","timestamp":1700000001,"smtp-id":"<x@y>","event":"processed","category":["save-the-park"],"sg_event_id":"e1","sg_message_id":"abc123.filter0001.1.2.3","outcry_id":"pub-1"},
 {"email":"mp@example.gov","timestamp":1700000002,"event":"deferred","category":"save-the-park","sg_event_id":"e2","sg_message_id":"abc123.filter0001.1.2.3","response":"400 try again later","attempt":"5","outcry_id":"pub-1"},
 {"email":"mp@example.gov","timestamp":1700000003,"event":"delivered","sg_event_id":"e3","sg_message_id":"abc123.filter0001.1.2.3","response":"250 OK","outcry_id":"pub-1","ip":"1.2.3.4","tls":1},
 {"email":"old@example.gov","timestamp":1700000004,"event":"bounce","type":"blocked","bounce_classification":"Reputation","reason":"550 blocked","status":"5.7.1","sg_event_id":"e4","sg_message_id":"def456.filter","outcry_id":"pub-2"},
 {"email":"gone@example.gov","timestamp":1700000005,"event":"bounce","type":"bounce","reason":"550 no such user","status":"5.1.1","sg_event_id":"e5","sg_message_id":"ghi789","outcry_id":"pub-3"},
 {"email":"gone@example.gov","timestamp":1700000006,"event":"dropped","reason":"Bounced Address","sg_event_id":"e6","sg_message_id":"jkl","outcry_id":"pub-4"},
 {"email":"mp@example.gov","timestamp":1700000007,"event":"spamreport","sg_event_id":"e7","sg_message_id":"abc123.filter0001.1.2.3","outcry_id":"pub-1"},
 {"email":"mp@example.gov","timestamp":1700000008,"event":"open","sg_machine_open":false,"useragent":"Mozilla","sg_event_id":"e8","sg_message_id":"abc123.filter0001.1.2.3","outcry_id":"pub-1"},
 {"email":"mp@example.gov","timestamp":1700000009,"sg_event_id":"no-event-name"}
]`

func TestParseSample(t *testing.T) {
	events, err := Parse([]byte(sample))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Event{
		{Email: "mp@example.gov", Timestamp: 1700000001, Event: "processed", SGEventID: "e1", SGMessageID: "abc123.filter0001.1.2.3", OutcryID: "pub-1"},
		{Email: "mp@example.gov", Timestamp: 1700000002, Event: "deferred", SGEventID: "e2", SGMessageID: "abc123.filter0001.1.2.3", OutcryID: "pub-1", Response: "400 try again later"},
		{Email: "mp@example.gov", Timestamp: 1700000003, Event: "delivered", SGEventID: "e3", SGMessageID: "abc123.filter0001.1.2.3", OutcryID: "pub-1", Response: "250 OK"},
		{Email: "old@example.gov", Timestamp: 1700000004, Event: "bounce", Type: "blocked", Reason: "550 blocked", Status: "5.7.1", SGEventID: "e4", SGMessageID: "def456.filter", OutcryID: "pub-2"},
		{Email: "gone@example.gov", Timestamp: 1700000005, Event: "bounce", Type: "bounce", Reason: "550 no such user", Status: "5.1.1", SGEventID: "e5", SGMessageID: "ghi789", OutcryID: "pub-3"},
		{Email: "gone@example.gov", Timestamp: 1700000006, Event: "dropped", Reason: "Bounced Address", SGEventID: "e6", SGMessageID: "jkl", OutcryID: "pub-4"},
		{Email: "mp@example.gov", Timestamp: 1700000007, Event: "spamreport", SGEventID: "e7", SGMessageID: "abc123.filter0001.1.2.3", OutcryID: "pub-1"},
		{Email: "mp@example.gov", Timestamp: 1700000008, Event: "open", SGEventID: "e8", SGMessageID: "abc123.filter0001.1.2.3", OutcryID: "pub-1"},
	}
	if len(events) != len(want) {
		t.Fatalf("got %d events, want %d (the one without a name skipped): %+v", len(events), len(want), events)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, events[i], want[i])
		}
	}
}

func TestParseLenientFields(t *testing.T) {
	body := `[{"event":"bounce","timestamp":"1700000000","status":550,"type":null,"reason":{"x":1},"outcry_id":42,"email":true},
	          {"event":"delivered","timestamp":1.7e9},
	          {"event":"delivered","timestamp":"soon"},
	          null]`
	events, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Event{
		{Event: "bounce", Timestamp: 1700000000, Status: "550", OutcryID: "42", Email: "true"},
		{Event: "delivered", Timestamp: 1700000000},
		{Event: "delivered"},
	}
	if len(events) != len(want) {
		t.Fatalf("got %+v", events)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Errorf("event %d: got %+v, want %+v", i, events[i], want[i])
		}
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, body string }{
		{"empty", ""},
		{"whitespace", "  \n"},
		{"object", `{"event":"delivered"}`},
		{"string", `"delivered"`},
		{"null", `null`},
		{"number", `42`},
		{"array of numbers", `[1,2]`},
		{"array of strings", `["delivered"]`},
		{"nested arrays", `[[{"event":"delivered"}]]`},
		{"unterminated", `[{"event":"delivered"}`},
		{"unterminated object", `[{"event":"deliv`},
		{"trailing comma", `[{"event":"delivered"},]`},
		{"trailing data", `[{"event":"delivered"}] []`},
		{"trailing garbage", `[]x`},
		{"garbage", "\x00\x01\x02 binary \xff\xfe"},
		{"invalid utf-8 outside strings", "[\xff]"},
		{"too many events", "[" + strings.Repeat(`{"event":"open"},`, MaxEvents) + `{"event":"open"}]`},
		{"deep nesting", "[" + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if events, err := Parse([]byte(tt.body)); err == nil {
				t.Errorf("Parse = %d events, nil; want an error", len(events))
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	t.Run("max events", func(t *testing.T) {
		body := "[" + strings.Repeat(`{"event":"open"},`, MaxEvents-1) + `{"event":"open"}]`
		events, err := Parse([]byte(body))
		if err != nil || len(events) != MaxEvents {
			t.Fatalf("Parse = %d events, %v; want %d", len(events), err, MaxEvents)
		}
	})
	t.Run("long fields cut on a rune boundary", func(t *testing.T) {
		long := strings.Repeat("é", MaxFieldLen) // 2 bytes each
		events, err := Parse([]byte(`[{"event":"bounce","reason":"x` + long + `","email":"` + strings.Repeat("a", 5*MaxFieldLen) + `"}]`))
		if err != nil {
			t.Fatal(err)
		}
		e := events[0]
		if len(e.Reason) > MaxFieldLen || len(e.Reason) < MaxFieldLen-1 || !utf8.ValidString(e.Reason) {
			t.Errorf("reason: %d bytes, valid UTF-8 %v", len(e.Reason), utf8.ValidString(e.Reason))
		}
		if len(e.Email) != MaxFieldLen {
			t.Errorf("email: %d bytes, want %d", len(e.Email), MaxFieldLen)
		}
	})
	t.Run("invalid utf-8 in strings", func(t *testing.T) {
		events, err := Parse([]byte("[{\"event\":\"bounce\",\"reason\":\"bad \xff\xfe byte\"}]"))
		if err != nil {
			t.Fatal(err)
		}
		if r := events[0].Reason; !utf8.ValidString(r) || !strings.Contains(r, "\uFFFD") {
			t.Errorf("reason = %q, want valid UTF-8 with U+FFFD", r)
		}
	})
	t.Run("empty array", func(t *testing.T) {
		events, err := Parse([]byte(" [ ] \n"))
		if err != nil || len(events) != 0 {
			t.Errorf("Parse = %v, %v", events, err)
		}
	})
}

func TestProviderMessageIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		// SendGrid's documented samples, older and newer form.
		{"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", []string{"14c5d75ce93", "14c5d75ce93.dfd", "14c5d75ce93.dfd.64b469",
			"14c5d75ce93.dfd.64b469.filter0001", "14c5d75ce93.dfd.64b469.filter0001.16648", "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88",
			"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"}},
		{"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0", []string{"LRzXl_NHStOGhQ4kofSm_A",
			"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9", "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0"}},
		{"noDot", []string{"noDot"}},
		{".leading", []string{".leading"}},
		{"a..b", []string{"a", "a.", "a..b"}},
		{"", nil},
		{"a.b.c.d.e.f.g.h.i.j", []string{"a", "a.b", "a.b.c", "a.b.c.d", "a.b.c.d.e", "a.b.c.d.e.f", "a.b.c.d.e.f.g", "a.b.c.d.e.f.g.h"}},
	}
	for _, tt := range tests {
		if got := (Event{SGMessageID: tt.in}).ProviderMessageIDs(); !slices.Equal(got, tt.want) {
			t.Errorf("ProviderMessageIDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReadBody(t *testing.T) {
	small := []byte(sample)
	if b, err := ReadBody(bytes.NewReader(small)); err != nil || !bytes.Equal(b, small) {
		t.Errorf("ReadBody(small) = %d bytes, %v", len(b), err)
	}
	exact := bytes.Repeat([]byte("a"), MaxBodyBytes)
	if b, err := ReadBody(bytes.NewReader(exact)); err != nil || len(b) != MaxBodyBytes {
		t.Errorf("ReadBody(limit) = %d bytes, %v", len(b), err)
	}
	if _, err := ReadBody(io.MultiReader(bytes.NewReader(exact), strings.NewReader("!"))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadBody(limit+1) = %v, want ErrTooLarge", err)
	}
	boom := errors.New("boom")
	if _, err := ReadBody(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("ReadBody(failing reader) = %v, want wrapped boom", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(sgFixtureBody))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"event":"bounce","timestamp":"1","status":5}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := Parse(body)
		if err != nil {
			return
		}
		if len(events) > MaxEvents {
			t.Fatalf("%d events", len(events))
		}
		for _, e := range events {
			if e.Event == "" {
				t.Fatalf("event without a name kept: %+v", e)
			}
			for _, s := range []string{e.Email, e.Event, e.SGEventID, e.SGMessageID, e.OutcryID, e.Type, e.Reason, e.Status, e.Response} {
				if len(s) > MaxFieldLen {
					t.Fatalf("field of %d bytes", len(s))
				}
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 in %q", s)
				}
			}
			_ = sendlog.StatusFor(e)
			_ = sendlog.HardProblem(e)
			_ = e.ProviderMessageIDs()
		}
	})
}

// Issue 16, item 12: a timestamp that would overflow in milliseconds, or is
// negative, reads as 0 (unknown).
func TestParseTimestampBounds(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{`1700000000`, 1700000000},
		{`9.2e17`, 0},
		{`9223372036854775807`, 0},
		{`"9223372036854775807"`, 0},
		{`-5`, 0},
		{`253402300799`, MaxTimestamp},
		{`253402300800`, 0},
	}
	for _, tt := range tests {
		events, err := Parse([]byte(`[{"event":"delivered","timestamp":` + tt.in + `}]`))
		if err != nil {
			t.Fatal(err)
		}
		if got := events[0].Timestamp; got != tt.want {
			t.Errorf("timestamp %s = %d, want %d", tt.in, got, tt.want)
		}
	}
}
