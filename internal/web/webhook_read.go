package web

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/outcry/outcry/internal/webhook"
)

// Reading webhook bodies fairly (issue 27 item 3). A body must arrive within
// webhookReadTime; each client (by IP, as OUTCRY_TRUSTED_PROXIES makes it)
// reads one body at a time; and what the bodies being read hold together is
// bounded in bytes, not in posts, so that connections trickling a few bytes
// hold next to nothing and signed posts still get through beside them.
const (
	// webhookReadTime is how long a webhook body may take to arrive
	// (SendGrid sends its batches, under 1 MB, at once).
	webhookReadTime = 5 * time.Second
	// webhookBufferBytes bounds the bytes of all the bodies being read:
	// four at their bound (a read holds at most one byte beyond it, to tell
	// that a body is over).
	webhookBufferBytes = 4 * (webhook.MaxBodyBytes + 1)
	// webhookChunk is what a read reserves of the buffer before it reads.
	webhookChunk = 32 << 10
)

var (
	errWebhookBusy     = errors.New("webhook: too many bytes being read at once")
	errWebhookSlow     = errors.New("webhook: the body did not arrive in time")
	errWebhookSameHost = errors.New("webhook: this client is already sending a post")
)

// webhookReads is what the bodies being read hold: bytes, and one post per client.
type webhookReads struct {
	mu      sync.Mutex
	bytes   int64
	clients map[string]bool
	// readTime overrides webhookReadTime (tests that feed bodies slowly on a loaded machine).
	readTime time.Duration
}

func (w *webhookReads) enter(client string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.clients == nil {
		w.clients = map[string]bool{}
	}
	if w.clients[client] {
		return false
	}
	w.clients[client] = true
	return true
}

func (w *webhookReads) leave(client string, held int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.clients, client)
	w.bytes -= held
}

func (w *webhookReads) reserve(n int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.bytes+n > webhookBufferBytes {
		return false
	}
	w.bytes += n
	return true
}

func (w *webhookReads) release(n int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bytes -= n
}

// read reads one webhook body of client from r, at most
// webhook.MaxBodyBytes, before the deadline set on rw's connection.
func (w *webhookReads) read(client string, rw http.ResponseWriter, r io.Reader) ([]byte, error) {
	if !w.enter(client) {
		return nil, errWebhookSameHost
	}
	var held int64
	defer func() { w.leave(client, held) }()
	limit := webhookReadTime
	if w.readTime > 0 {
		limit = w.readTime
	}
	rc := http.NewResponseController(rw)
	if err := rc.SetReadDeadline(time.Now().Add(limit)); err == nil {
		defer rc.SetReadDeadline(time.Time{})
	}
	var body []byte
	deadline := time.Now().Add(limit)
	for {
		room := min(webhookChunk, webhook.MaxBodyBytes+1-len(body))
		if !w.reserve(int64(room)) {
			return nil, errWebhookBusy
		}
		held += int64(room)
		if len(body)+room > cap(body) {
			body = append(make([]byte, 0, min(2*cap(body)+webhookChunk, webhook.MaxBodyBytes+1)), body...)
		}
		n, err := r.Read(body[len(body) : len(body)+room])
		body = body[:len(body)+n]
		w.release(int64(room - n))
		held -= int64(room - n)
		if len(body) > webhook.MaxBodyBytes {
			return nil, webhook.ErrTooLarge
		}
		if errors.Is(err, io.EOF) {
			return body, nil
		}
		if err != nil || time.Now().After(deadline) {
			if err == nil || isTimeout(err) {
				return nil, errWebhookSlow
			}
			return nil, err
		}
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
