package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outcry/outcry/internal/sgfake"
	"github.com/outcry/outcry/internal/webhook"
)

// countingBody counts the bytes the handler reads from a request body and
// says when the first read starts.
type countingBody struct {
	r       io.Reader
	n       atomic.Int64
	started chan struct{}
	once    sync.Once
}

func newCountingBody(r io.Reader) *countingBody {
	return &countingBody{r: r, started: make(chan struct{})}
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.started) })
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { return nil }

// postWebhook serves one webhook post in-process; length < 0 sends no
// Content-Length (chunked).
func postWebhook(a *testApp, body io.Reader, length int64, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/webhooks/sendgrid", body)
	req.ContentLength = length
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.srv.Echo.ServeHTTP(rec, req)
	return rec
}

// Issue 16, item 1: with a key set, a post without signature headers is
// refused before a byte of its body is read; a body over the bound is read
// no further than the bound.
func TestWebhookBoundsReading(t *testing.T) {
	signer, err := sgfake.NewWebhookSigner()
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, func(d *Deps) { d.WebhookPublicKey = signer.PublicKey() })
	big := func() *countingBody { return newCountingBody(bytes.NewReader(make([]byte, 16<<20))) }
	signed := map[string]string{webhook.SignatureHeader: "MEUCIQ==", webhook.TimestampHeader: "1700000000"}

	b := big()
	if rec := postWebhook(a, b, 16<<20, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("unsigned post: %d", rec.Code)
	}
	if n := b.n.Load(); n != 0 {
		t.Errorf("read %d bytes of an unsigned post, want 0", n)
	}

	b = big()
	if rec := postWebhook(a, b, 16<<20, signed); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared 16 MB: %d", rec.Code)
	}
	if n := b.n.Load(); n != 0 {
		t.Errorf("read %d bytes of a post declared too large, want 0", n)
	}

	b = big()
	if rec := postWebhook(a, b, -1, signed); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked 16 MB: %d", rec.Code)
	}
	if n := b.n.Load(); n > webhook.MaxBodyBytes+64<<10 {
		t.Errorf("read %d bytes of a chunked post, want at most about %d", n, webhook.MaxBodyBytes)
	}
	if webhook.MaxBodyBytes > 4<<20 {
		t.Errorf("MaxBodyBytes = %d: SendGrid's batches are under 1 MB", webhook.MaxBodyBytes)
	}
}

// Issue 16 item 1, as issue 27 item 3 changed it: what the bodies being read
// hold together is bounded in bytes; a post beyond the bound is answered
// 503 with Retry-After and its body is not read. A client reads one body at
// a time.
func TestWebhookConcurrencyBounded(t *testing.T) {
	a := newTestApp(t, func(d *Deps) { d.WebhookUnsigned = true })
	from := func(ip string) map[string]string { return map[string]string{"X-Test-Remote": ip} }
	a.srv.Echo.IPExtractor = func(r *http.Request) string { return r.Header.Get("X-Test-Remote") }
	a.srv.webhookReads.readTime = time.Minute // 8 MB through pipes under -race on a loaded machine
	var writers []*io.PipeWriter
	var wg sync.WaitGroup
	n := webhookBufferBytes / (webhook.MaxBodyBytes + 1)
	codes := make(chan int, n)
	for i := range n {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		b := newCountingBody(pr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- postWebhook(a, b, -1, from(fmt.Sprintf("192.0.2.%d", i+1))).Code
		}()
		// This post holds nearly the most one body may.
		pw.Write(append([]byte(`[`), bytes.Repeat([]byte(" "), webhook.MaxBodyBytes-2)...))
	}
	for { // each is waiting for more, with its next read's room reserved
		a.srv.webhookReads.mu.Lock()
		full := a.srv.webhookReads.bytes == webhookBufferBytes
		a.srv.webhookReads.mu.Unlock()
		if full {
			break
		}
		time.Sleep(time.Millisecond)
	}
	extra := newCountingBody(strings.NewReader(`[]`))
	rec := postWebhook(a, extra, 2, from("198.51.100.1"))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("post beyond the bound: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if n := extra.n.Load(); n != 0 {
		t.Errorf("read %d bytes of a post beyond the bound", n)
	}
	same := newCountingBody(strings.NewReader(`[]`))
	if rec := postWebhook(a, same, 2, from("192.0.2.1")); rec.Code != http.StatusServiceUnavailable || same.n.Load() != 0 {
		t.Fatalf("a second post of a client that is sending one: %d, %d bytes read", rec.Code, same.n.Load())
	}
	for _, pw := range writers {
		pw.Write([]byte(`]`))
		pw.Close()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a post within the bound: %d", c)
		}
	}
	if rec := postWebhook(a, strings.NewReader(`[]`), 2, from("192.0.2.1")); rec.Code != http.StatusOK {
		t.Fatalf("after the others finished: %d (bytes or a client leaked)", rec.Code)
	}
}

// Issue 27 item 3: eight connections from eight addresses trickle bodies
// with fake signature headers; correctly signed posts still get through
// while they are pending, and each slow post is cut off (408).
func TestWebhookSlowPostsDoNotBlockSignedOnes(t *testing.T) {
	signer, err := sgfake.NewWebhookSigner()
	if err != nil {
		t.Fatal(err)
	}
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	a := newTestApp(t, func(d *Deps) {
		d.WebhookPublicKey = signer.PublicKey()
		d.Security.TrustedProxies = []*net.IPNet{loopback}
	})
	addr := strings.TrimPrefix(a.http.URL, "http://")
	stop := make(chan struct{})
	results := make(chan string, 8)
	for i := range 8 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /webhooks/sendgrid HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.%d\r\n"+
			"X-Twilio-Email-Event-Webhook-Signature: MEUCIQDfake\r\nX-Twilio-Email-Event-Webhook-Timestamp: %d\r\n"+
			"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n[", i+1, time.Now().Unix())
		go func() { // one byte every 100 ms, until the server answers
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()
		go func() {
			line, _ := bufio.NewReader(conn).ReadString('\n')
			results <- line
		}()
	}
	defer close(stop)
	time.Sleep(300 * time.Millisecond) // the slow posts are all being read
	for i := range 5 {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		body := []byte(`[]`)
		sig, err := signer.Sign(ts, body)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", a.http.URL+"/webhooks/sendgrid", bytes.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, sig)
		req.Header.Set(webhook.TimestampHeader, ts)
		req.Header.Set("X-Forwarded-For", "198.51.100.7") // SendGrid
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signed post %d while slow ones are pending: %d", i, resp.StatusCode)
		}
	}
	for range 8 {
		if line := <-results; !strings.Contains(line, " 408 ") {
			t.Errorf("a slow post was answered %q, want 408", strings.TrimSpace(line))
		}
	}
}

// Issue 16, item 2: without a key and without OUTCRY_WEBHOOK_UNSIGNED the
// webhook is off; with the opt-in, events for unknown messages are not
// stored and a post is capped in events.
func TestWebhookUnsignedIsOptIn(t *testing.T) {
	a := newTestApp(t)
	id := queuedMessage(t, a)
	status, _, body := a.do(t, "POST", "/webhooks/sendgrid", "application/json", `[{"event":"bounce","sg_event_id":"x","outcry_id":"`+id+`"}]`)
	if status != http.StatusNotFound || !strings.Contains(body, "OUTCRY_WEBHOOK_UNSIGNED") {
		t.Fatalf("webhook without key or opt-in: %d %s", status, body)
	}
	if c, _ := a.store.StatusCounts(context.Background(), "netflix-baby"); c["bounced"] != 0 {
		t.Fatalf("an unsigned post changed the send log: %v", c)
	}

	a = newTestApp(t, func(d *Deps) { d.WebhookUnsigned = true })
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 3000 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"event":"delivered","sg_event_id":"u` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `","sg_message_id":"nobody.1","timestamp":1700000000}`)
	}
	sb.WriteString("]")
	status, _, body = a.do(t, "POST", "/webhooks/sendgrid", "application/json", sb.String())
	if status != http.StatusOK || !strings.Contains(body, `"stored":0`) {
		t.Fatalf("unmatched events: %d %s", status, body)
	}
	tooMany := "[" + strings.Repeat(`{"event":"open"},`, webhook.MaxEvents) + `{"event":"open"}]`
	if status, _, _ := a.do(t, "POST", "/webhooks/sendgrid", "application/json", tooMany); status != http.StatusBadRequest {
		t.Fatalf("%d events: %d", webhook.MaxEvents+1, status)
	}
}
