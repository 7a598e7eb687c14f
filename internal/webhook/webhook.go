// Package webhook reads SendGrid Event Webhook posts: it verifies their
// signature, parses the events and says what each one means for the send
// log. It holds pure functions only; the HTTP handler and the database live
// elsewhere.
package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/outcry/outcry/internal/sendlog"
)

// Limits on what Parse and ReadBody accept. SendGrid posts batches of at
// most about 768 KB (a few thousand events); the limits leave headroom and
// no more, since every post is read into memory before it is verified.
const (
	MaxEvents    = 5_000   // events in one post
	MaxFieldLen  = 1_000   // bytes kept of each string field
	MaxBodyBytes = 2 << 20 // bytes read from one post
	// MaxTimestamp is the last Unix second an event may carry
	// (sendlog.MaxTimestamp).
	MaxTimestamp = sendlog.MaxTimestamp
)

// ErrTooLarge is returned by ReadBody for a body over MaxBodyBytes.
var ErrTooLarge = errors.New("webhook: body too large")

// ReadBody reads at most MaxBodyBytes from r, failing with ErrTooLarge
// rather than truncating.
func ReadBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("webhook: read body: %w", err)
	}
	if len(b) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	return b, nil
}

// rawEvent is the wire form. Its fields accept any JSON scalar so that one
// odd value does not make SendGrid retry the whole batch for ever.
type rawEvent struct {
	Email       text   `json:"email"`
	Timestamp   number `json:"timestamp"`
	Event       text   `json:"event"`
	SGEventID   text   `json:"sg_event_id"`
	SGMessageID text   `json:"sg_message_id"`
	OutcryID    text   `json:"outcry_id"`
	Type        text   `json:"type"`
	Reason      text   `json:"reason"`
	Status      text   `json:"status"`
	Response    text   `json:"response"`
}

// Parse decodes a webhook post: a JSON array of event objects. Unknown
// fields are ignored; objects without an "event" name (and null elements)
// are skipped. It fails on anything that is not an array of objects, on
// trailing data, and on more than MaxEvents elements. String fields are
// cut to MaxFieldLen bytes; invalid UTF-8 inside strings becomes U+FFFD.
func Parse(body []byte) ([]Event, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("webhook: parse: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, errors.New("webhook: parse: body is not a JSON array")
	}
	var events []Event
	for n := 0; dec.More(); n++ {
		if n == MaxEvents {
			return nil, fmt.Errorf("webhook: parse: more than %d events", MaxEvents)
		}
		var r rawEvent
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("webhook: parse event %d: %w", n, err)
		}
		if r.Event == "" {
			continue
		}
		events = append(events, Event{
			Email:       string(r.Email),
			Timestamp:   timestamp(int64(r.Timestamp)),
			Event:       string(r.Event),
			SGEventID:   string(r.SGEventID),
			SGMessageID: string(r.SGMessageID),
			OutcryID:    string(r.OutcryID),
			Type:        string(r.Type),
			Reason:      string(r.Reason),
			Status:      string(r.Status),
			Response:    string(r.Response),
		})
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, fmt.Errorf("webhook: parse: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("webhook: parse: data after the array")
	}
	return events, nil
}

// text is a string field that also takes numbers and booleans (as their
// JSON text), and null, objects or arrays (as ""). It keeps at most
// MaxFieldLen bytes.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var s string
	switch {
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	case len(b) > 0 && (b[0] == '{' || b[0] == '[' || b[0] == 'n'):
		s = ""
	default:
		s = string(b)
	}
	*t = text(cut(s, MaxFieldLen))
	return nil
}

// number is an integer field that also takes a float (truncated) or a
// numeric string; anything else reads as 0.
type number int64

func (n *number) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = number(i)
		return nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > -1e18 && f < 1e18 {
		*n = number(f)
		return nil
	}
	*n = 0
	return nil
}

// timestamp keeps a Unix time in 1..MaxTimestamp, else 0.
func timestamp(ts int64) int64 {
	if ts < 1 || ts > MaxTimestamp {
		return 0
	}
	return ts
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
