// Package sgfake is a fake SendGrid v3 mail API for tests and benchmarks.
// It records what it receives and answers like SendGrid would: 202 with an
// X-Message-Id header, or whatever responses a test scripts.
//
// It does not import "testing", so a benchmark command can use it too.
package sgfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Address is a v3 email object.
type Address struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Personalization is a v3 personalization object (the fields we assert on).
type Personalization struct {
	To         []Address         `json:"to"`
	Subject    string            `json:"subject"`
	CustomArgs map[string]string `json:"custom_args"`
}

// Content is one body part.
type Content struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Mail is the decoded body of a v3 mail/send request, limited to the fields
// outcry sets.
type Mail struct {
	From             Address           `json:"from"`
	ReplyTo          Address           `json:"reply_to"`
	Personalizations []Personalization `json:"personalizations"`
	Subject          string            `json:"subject"`
	Content          []Content         `json:"content"`
	Headers          map[string]string `json:"headers"`
	CustomArgs       map[string]string `json:"custom_args"`
	Categories       []string          `json:"categories"`
	MailSettings     struct {
		SandboxMode struct {
			Enable bool `json:"enable"`
		} `json:"sandbox_mode"`
	} `json:"mail_settings"`
}

// MaxRequestBytes is SendGrid's limit on one message (30 MB); the fake
// answers 413 to a request over it.
const MaxRequestBytes = 30_000_000

// Recorded is one request the fake received.
type Recorded struct {
	Header http.Header
	Body   []byte
	Mail   Mail // zero when the body was not valid JSON
	At     time.Time
}

// Response is a scripted answer. Status 0 means 202. A 2xx answer gets a
// fresh X-Message-Id unless Header sets one. Hang delays the answer; if the
// client gives up first, nothing is written.
type Response struct {
	Status int
	Body   string
	Header map[string]string
	Hang   time.Duration
}

// Server is a running fake. All methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	done   chan struct{}
	closed sync.Once
	prefix string
	seq    atomic.Uint64
	count  atomic.Int64
	record atomic.Bool

	mu     sync.Mutex
	reqs   []Recorded
	script []Response
	def    Response
	perSec map[int64]int
	// maxBytes: a request body over it is refused 413, as SendGrid refuses
	// one over 30 MB (0: no bound).
	maxBytes int
}

// New starts a fake on a loopback port. Recording is on; call Close when done.
func New() *Server {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	s := &Server{
		done:   make(chan struct{}),
		prefix: hex.EncodeToString(b[:]),
		perSec: make(map[int64]int),
	}
	s.record.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/mail/send", s.mailSend)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the base URL to configure as the SendGrid host.
func (s *Server) URL() string { return s.srv.URL }

// Close cuts short any hanging answers and shuts the server down.
func (s *Server) Close() {
	s.closed.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// SetRecord turns storing of requests on or off. Counting and the
// per-second histogram go on regardless.
func (s *Server) SetRecord(on bool) { s.record.Store(on) }

// Script queues answers, used in order before falling back to the default.
func (s *Server) Script(responses ...Response) {
	s.mu.Lock()
	s.script = append(s.script, responses...)
	s.mu.Unlock()
}

// SetDefault changes the answer given when no scripted one is left.
func (s *Server) SetDefault(r Response) {
	s.mu.Lock()
	s.def = r
	s.mu.Unlock()
}

// SetMaxBytes makes the fake refuse, with 413 like SendGrid's 30 MB limit, a
// request body over n bytes (0: no bound). A refused request does not use
// up a scripted answer.
func (s *Server) SetMaxBytes(n int) {
	s.mu.Lock()
	s.maxBytes = n
	s.mu.Unlock()
}

// Count is how many mail/send requests arrived.
func (s *Server) Count() int { return int(s.count.Load()) }

// Requests returns a copy of the recorded requests, oldest first.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recorded, len(s.reqs))
	copy(out, s.reqs)
	return out
}

// PerSecond returns how many requests arrived in each Unix second.
func (s *Server) PerSecond() map[int64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]int, len(s.perSec))
	for k, v := range s.perSec {
		out[k] = v
	}
	return out
}

func (s *Server) mailSend(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.count.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away
	}
	var m Mail
	jsonErr := json.Unmarshal(body, &m)

	// Like SendGrid: credentials first, then the body. A refused request
	// does not use up a scripted answer.
	var resp Response
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	refused := true
	switch {
	case !ok || strings.TrimSpace(key) == "":
		resp = Response{Status: http.StatusUnauthorized, Body: ErrorBody("The provided authorization grant is invalid, expired, or revoked", "")}
	case len(body) > MaxRequestBytes:
		// SendGrid's limit on a message: 30 MB.
		resp = Response{Status: http.StatusRequestEntityTooLarge, Body: ErrorBody("The total message size exceeds the 30MB limit", "")}
	case jsonErr != nil:
		resp = Response{Status: http.StatusBadRequest, Body: ErrorBody("Bad Request", "")}
	default:
		refused = false
	}

	recording := s.record.Load()
	s.mu.Lock()
	if !refused && s.maxBytes > 0 && len(body) > s.maxBytes {
		refused = true
		resp = Response{Status: http.StatusRequestEntityTooLarge, Body: ErrorBody("Payload Too Large", "")}
	}
	s.perSec[now.Unix()]++
	if recording {
		s.reqs = append(s.reqs, Recorded{Header: r.Header.Clone(), Body: body, Mail: m, At: now})
	}
	if !refused {
		resp = s.def
		if len(s.script) > 0 {
			resp = s.script[0]
			s.script = s.script[1:]
		}
	}
	s.mu.Unlock()
	s.answer(w, r, resp)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, resp Response) {
	if resp.Hang > 0 {
		t := time.NewTimer(resp.Hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusAccepted
	}
	h := w.Header()
	for k, v := range resp.Header {
		h.Set(k, v)
	}
	if status/100 == 2 && h.Get("X-Message-Id") == "" {
		h.Set("X-Message-Id", s.prefix+strconv.FormatUint(s.seq.Add(1), 36))
	}
	if resp.Body != "" && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, resp.Body)
}

// ErrorBody returns a SendGrid-style error document,
// {"errors":[{"message":…,"field":…}]}, for scripting 4xx answers.
// An empty field is encoded as null.
func ErrorBody(message, field string) string {
	type item struct {
		Message string  `json:"message"`
		Field   *string `json:"field"`
	}
	it := item{Message: message}
	if field != "" {
		it.Field = &field
	}
	b, _ := json.Marshal(struct {
		Errors []item `json:"errors"`
	}{[]item{it}}) // cannot fail: only strings
	return string(b)
}
