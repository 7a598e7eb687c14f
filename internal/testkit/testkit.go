// Package testkit is the tests' fixtures, written once: a store on either
// database and a mailbox that keeps what it was given. PostgreSQL comes
// from internal/pgtest (OUTCRY_TEST_PG, OUTCRY_REQUIRE_PG); a package's
// suite runs on it with OUTCRY_TEST_STORE=postgres, as .ci/run does.
package testkit

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/outcry/outcry/internal/delivery"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
)

// DB is a new database for t: a SQLite file under t.TempDir(), or a new
// PostgreSQL database when OUTCRY_TEST_STORE=postgres.
func DB(t testing.TB) string {
	t.Helper()
	return pgtest.DB(t, filepath.Join(t.TempDir(), "outcry.db"))
}

// Store opens a store on a new database (DB), closed when t ends.
func Store(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), DB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Mailbox is a mailer that keeps the emails it was given, in order, and
// answers each with a provider id "msg-1", "msg-2"… Safe for
// concurrent use.
type Mailbox struct {
	mu   sync.Mutex
	sent []delivery.Message
	fail error
}

// Name is the mailer's name, "mailbox".
func (m *Mailbox) Name() string { return "mailbox" }

// Send keeps msg, or returns the error Fail set without keeping it.
func (m *Mailbox) Send(_ context.Context, msg delivery.Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return "", m.fail
	}
	m.sent = append(m.sent, msg)
	return fmt.Sprintf("msg-%d", len(m.sent)), nil
}

// Sent returns the emails kept so far.
func (m *Mailbox) Sent() []delivery.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

// Fail makes every later Send return err (nil: send again).
func (m *Mailbox) Fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}
