package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
)

// Outgoing webhooks (issue 23): endpoints, and deliveries written in the
// transaction of the change they report.
//
// Design: a change appends one row to webhook_deliveries per endpoint that
// wants it, in its own transaction, with one INSERT … SELECT from the
// endpoints (no endpoint, no row: one cheap statement). The body is fixed
// when the row is written, in the version the endpoint may receive
// (personal data or not), so a retry sends the same bytes and nothing
// personal is ever stored for an endpoint that may not see it. The elected
// sender claims due rows (ClaimWebhookDeliveries) and records each attempt
// (FinishWebhookAttempt). The alternative, one events row fanned out later
// by the sender, would keep personal data in a table for endpoints that
// must not get it and add a second step that can fail between the two.

// A webhook delivery's statuses: its own words, not the send log's
// (internal/sendlog), though "failed" is spelled alike.
const (
	HookPending   = "pending"
	HookSucceeded = "succeeded"
	HookFailed    = "failed"
)

// WebhookEndpoint is a receiver of events.
type WebhookEndpoint struct {
	ID           int64
	URL          string
	Events       []hookevent.Type
	Campaign     string // "" = every campaign
	PersonalData bool
	Secret       string // whsec_…
	Description  string
	CreatedAt    time.Time
	FailingSince *time.Time // the first failed attempt since the last success
	DisabledAt   *time.Time
	DisabledWhy  string
}

func eventsText(ts []hookevent.Type) string {
	var b strings.Builder
	b.WriteString(",")
	for _, t := range ts {
		b.WriteString(string(t))
		b.WriteString(",")
	}
	return b.String()
}

func parseEvents(s string) []hookevent.Type {
	var out []hookevent.Type
	for _, p := range strings.Split(strings.Trim(s, ","), ",") {
		if p != "" {
			out = append(out, hookevent.Type(p))
		}
	}
	return out
}

const endpointColumns = `id, url, events, campaign, personal_data, secret, description, created_at, failing_since, disabled_at, disabled_why`

func scanEndpoint(row interface{ Scan(...any) error }) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	var events string
	var personal int
	var created int64
	var failing, disabled sql.NullInt64
	if err := row.Scan(&e.ID, &e.URL, &events, &e.Campaign, &personal, &e.Secret, &e.Description, &created, &failing, &disabled, &e.DisabledWhy); err != nil {
		return e, err
	}
	e.Events, e.PersonalData = parseEvents(events), personal == 1
	e.CreatedAt = time.UnixMilli(created).UTC()
	e.FailingSince, e.DisabledAt = msToTime(failing), msToTime(disabled)
	return e, nil
}

// CreateWebhookEndpoint stores e and returns it with its id.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint) (WebhookEndpoint, error) {
	now := s.nowMs()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (url, events, campaign, personal_data, secret, description, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.URL, eventsText(e.Events), e.Campaign, intFlag(e.PersonalData), e.Secret, e.Description, now).Scan(&e.ID)
	})
	if err != nil {
		return e, fmt.Errorf("store: create webhook endpoint: %w", err)
	}
	e.CreatedAt = time.UnixMilli(now).UTC()
	return e, nil
}

// WebhookEndpoints lists the endpoints, oldest first.
func (s *Store) WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: webhook endpoints: %w", err)
	}
	defer rows.Close()
	var out []WebhookEndpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("store: webhook endpoints: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// WebhookEndpoint reads one endpoint; ok is false when there is none.
func (s *Store) WebhookEndpoint(ctx context.Context, id int64) (e WebhookEndpoint, ok bool, err error) {
	e, err = scanEndpoint(s.r.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("store: webhook endpoint %d: %w", id, err)
	}
	return e, true, nil
}

// UpdateWebhookEndpoint saves e's url, events, campaign, personal data flag
// and description, and enables or disables it; ok is false when there is
// no such endpoint. Enabling clears the run of failures.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, e WebhookEndpoint, enabled bool) (ok bool, err error) {
	now := s.nowMs()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = ?, events = ?, campaign = ?, personal_data = ?, description = ?,
			disabled_at = CASE WHEN ? = 1 THEN NULL ELSE COALESCE(disabled_at, ?) END,
			disabled_why = CASE WHEN ? = 1 THEN '' WHEN disabled_at IS NULL THEN 'disabled by an organizer' ELSE disabled_why END,
			failing_since = CASE WHEN ? = 1 AND disabled_at IS NOT NULL THEN NULL ELSE failing_since END
			WHERE id = ?`, e.URL, eventsText(e.Events), e.Campaign, intFlag(e.PersonalData), e.Description,
			intFlag(enabled), now, intFlag(enabled), intFlag(enabled), e.ID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: update webhook endpoint %d: %w", e.ID, err)
	}
	return ok, nil
}

// DeleteWebhookEndpoint deletes an endpoint with its deliveries and
// attempts; ok is false when there was none.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id int64) (ok bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM webhook_attempts WHERE endpoint_id = ?`, `DELETE FROM webhook_deliveries WHERE endpoint_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: delete webhook endpoint %d: %w", id, err)
	}
	return ok, nil
}

// newMsgID is a delivery's webhook-id: the same for every endpoint of one
// event and across its retries.
func newMsgID() string { return "msg_" + strings.ToLower(rand.Text()) }

// execer is a transaction or a pool.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

const hooksWantedSQL = `SELECT COUNT(*) FROM webhook_endpoints WHERE disabled_at IS NULL AND events LIKE ?`

// hooksPattern matches an endpoint's comma-framed list of events holding t.
func hooksPattern(t hookevent.Type) string { return "%," + string(t) + ",%" }

// hooksWanted reports whether any enabled endpoint subscribes to t: the
// sign path asks once per group transaction and builds no event otherwise.
func hooksWanted(ctx context.Context, tx execer, t hookevent.Type) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, hooksWantedSQL, hooksPattern(t)).Scan(&n); err != nil {
		return false, fmt.Errorf("webhook endpoints: %w", err)
	}
	return n > 0, nil
}

// appendHook writes one delivery of e for each enabled endpoint that wants
// it, in tx: the change and its deliveries commit or roll back together.
func appendHook(ctx context.Context, tx execer, e hookevent.Event, now int64) error {
	if e.At.IsZero() {
		e.At = time.UnixMilli(now)
	}
	personal, public, err := e.Bodies()
	if err != nil {
		return fmt.Errorf("webhook %s: %w", e.Type, err)
	}
	sup := sql.NullInt64{Int64: e.SupporterID, Valid: e.SupporterID != 0}
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
			(endpoint_id, msg_id, type, supporter_id, personal, body, status, next_attempt_at, created_at, updated_at)
		SELECT id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), personal_data,
			CASE WHEN personal_data = 1 THEN CAST(? AS TEXT) ELSE CAST(? AS TEXT) END, 'pending', CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)
		FROM webhook_endpoints
		WHERE disabled_at IS NULL AND events LIKE ? AND (campaign = '' OR campaign = ?)`,
		newMsgID(), string(e.Type), sup, string(personal), string(public), now, now, now, hooksPattern(e.Type), e.Campaign); err != nil {
		return fmt.Errorf("webhook %s: %w", e.Type, err)
	}
	return nil
}

// AppendHook writes e's deliveries in a transaction of its own, for a
// change that is not itself written by the store (a campaign file applied).
func (s *Store) AppendHook(ctx context.Context, e hookevent.Event) error {
	now := s.nowMs()
	if err := s.tx(ctx, func(tx *sql.Tx) error { return appendHook(ctx, tx, e, now) }); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// QueueWebhookTest writes a test delivery for one endpoint, whatever it
// subscribed to and even when it is disabled (the console's button).
func (s *Store) QueueWebhookTest(ctx context.Context, endpointID int64, data any) error {
	now := s.nowMs()
	body, _, err := hookevent.Event{Type: hookevent.Test, At: time.UnixMilli(now), Personal: data}.Bodies()
	if err != nil {
		return err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
			(endpoint_id, msg_id, type, personal, body, status, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, 0, ?, 'pending', ?, ?, ?)`, endpointID, newMsgID(), string(hookevent.Test), string(body), now, now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: queue webhook test: %w", err)
	}
	return nil
}

// WebhookDelivery is a claimed delivery, with its endpoint's address and
// secret.
type WebhookDelivery struct {
	ID         int64
	EndpointID int64
	MsgID      string
	Type       string
	Body       []byte
	Attempts   int // made before this one
	URL        string
	Secret     string
}

// ClaimWebhookDeliveries claims up to limit due deliveries of enabled
// endpoints (test deliveries also of disabled ones) for lease: their next
// attempt moves to now+lease, so that a sender that dies while sending
// leaves them to be tried again then, not lost, and a second sender does
// not take them meanwhile.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]WebhookDelivery, error) {
	now := s.nowMs()
	var out []WebhookDelivery
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (e.disabled_at IS NULL OR d.type = ?)
			ORDER BY d.next_attempt_at, d.id LIMIT ?`, now, string(hookevent.Test), limit)
		if err != nil {
			return err
		}
		ids, err := scanIDs(rows)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			var d WebhookDelivery
			var body string
			if err := tx.QueryRowContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ?, updated_at = ?
				WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?
				RETURNING id, endpoint_id, msg_id, type, body, attempts`, now+lease.Milliseconds(), now, id, now).
				Scan(&d.ID, &d.EndpointID, &d.MsgID, &d.Type, &body, &d.Attempts); errors.Is(err, sql.ErrNoRows) {
				continue
			} else if err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT url, secret FROM webhook_endpoints WHERE id = ?`, d.EndpointID).Scan(&d.URL, &d.Secret); err != nil {
				return err
			}
			d.Body = []byte(body)
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim webhook deliveries: %w", err)
	}
	return out, nil
}

// WebhookAttempt is the result of one attempt of a delivery.
type WebhookAttempt struct {
	DeliveryID int64
	EndpointID int64
	At         time.Time
	Code       int    // the answer's status; 0: none (refused, timed out…)
	Error      string // "" for a 2xx
	Duration   time.Duration
	// Next is when to try again after a failure; nil: no more tries, the
	// delivery has failed.
	Next *time.Time
	// DisableAfter disables the endpoint when it has failed without a
	// success for this long (5 days).
	DisableAfter time.Duration
}

// FinishWebhookAttempt records an attempt: the delivery succeeds, waits for
// its next try, or fails; the endpoint's run of failures starts, goes on
// (and disables it once it has lasted DisableAfter) or ends. Personal data
// is not kept once a delivery is over: its body is emptied.
func (s *Store) FinishWebhookAttempt(ctx context.Context, a WebhookAttempt) (disabled bool, err error) {
	at := a.At.UnixMilli()
	ok := a.Code >= 200 && a.Code < 300
	err = s.tx(ctx, func(tx *sql.Tx) error {
		disabled = false
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, endpoint_id, at, code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)`,
			a.DeliveryID, a.EndpointID, at, a.Code, a.Error, a.Duration.Milliseconds()); err != nil {
			return err
		}
		switch {
		case ok:
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'succeeded', attempts = attempts + 1, last_code = ?, last_error = '',
				body = '', updated_at = ? WHERE id = ?`, a.Code, at, a.DeliveryID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?`, a.EndpointID)
			return err
		case a.Next != nil:
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_code = ?, last_error = ?, next_attempt_at = ?,
				updated_at = ? WHERE id = ?`, a.Code, a.Error, a.Next.UnixMilli(), at, a.DeliveryID); err != nil {
				return err
			}
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_code = ?, last_error = ?,
				body = '', updated_at = ? WHERE id = ?`, HookFailed, a.Code, a.Error, at, a.DeliveryID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ?`, at, a.EndpointID); err != nil {
			return err
		}
		if a.DisableAfter <= 0 {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET disabled_at = ?, disabled_why = ?
			WHERE id = ? AND disabled_at IS NULL AND failing_since <= ?`,
			at, "every delivery failed for "+days(a.DisableAfter)+"; the last: "+a.Error, a.EndpointID, at-a.DisableAfter.Milliseconds())
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		disabled = n > 0
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: finish webhook attempt: %w", err)
	}
	return disabled, nil
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// WebhookAttemptRow is one attempt, for the console.
type WebhookAttemptRow struct {
	ID         int64
	DeliveryID int64
	MsgID      string
	Type       string
	At         time.Time
	Code       int
	Error      string
	Duration   time.Duration
}

// WebhookAttempts lists an endpoint's latest attempts, newest first.
func (s *Store) WebhookAttempts(ctx context.Context, endpointID int64, limit int) ([]WebhookAttemptRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.id, a.delivery_id, d.msg_id, d.type, a.at, a.code, a.error, a.duration_ms
		FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
		WHERE a.endpoint_id = ? ORDER BY a.id DESC LIMIT ?`, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: webhook attempts: %w", err)
	}
	defer rows.Close()
	var out []WebhookAttemptRow
	for rows.Next() {
		var r WebhookAttemptRow
		var at, ms int64
		if err := rows.Scan(&r.ID, &r.DeliveryID, &r.MsgID, &r.Type, &at, &r.Code, &r.Error, &ms); err != nil {
			return nil, fmt.Errorf("store: webhook attempts: %w", err)
		}
		r.At, r.Duration = time.UnixMilli(at).UTC(), time.Duration(ms)*time.Millisecond
		out = append(out, r)
	}
	return out, rows.Err()
}

// WebhookDeliveryRow is a delivery's state.
type WebhookDeliveryRow struct {
	ID          int64
	EndpointID  int64
	MsgID       string
	Type        string
	SupporterID int64
	Status      string
	Attempts    int
	LastCode    int
	LastError   string
	NextAttempt time.Time
}

// WebhookDeliveries lists an endpoint's latest deliveries, newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID int64, limit int) ([]WebhookDeliveryRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, endpoint_id, msg_id, type, COALESCE(supporter_id, 0), status, attempts, last_code, last_error, next_attempt_at
		FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id DESC LIMIT ?`, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []WebhookDeliveryRow
	for rows.Next() {
		var r WebhookDeliveryRow
		var next int64
		if err := rows.Scan(&r.ID, &r.EndpointID, &r.MsgID, &r.Type, &r.SupporterID, &r.Status, &r.Attempts, &r.LastCode, &r.LastError, &next); err != nil {
			return nil, fmt.Errorf("store: webhook deliveries: %w", err)
		}
		r.NextAttempt = time.UnixMilli(next).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// NextWebhookDue is when the next pending delivery is due (ok false: none),
// so that the sender sleeps until then.
func (s *Store) NextWebhookDue(ctx context.Context) (t time.Time, ok bool, err error) {
	var ms sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&ms); err != nil {
		return t, false, fmt.Errorf("store: next webhook due: %w", err)
	}
	if !ms.Valid {
		return t, false, nil
	}
	return time.UnixMilli(ms.Int64), true, nil
}

// dropHooksOf deletes the pending deliveries with personal data about a
// supporter being erased (in the erasure's transaction): their names and
// address must not leave after they asked to be forgotten. The
// supporter.erased event written next tells the receivers.
func dropHooksOf(ctx context.Context, tx execer, supporterID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN
		(SELECT id FROM webhook_deliveries WHERE supporter_id = ? AND personal = 1 AND status = 'pending')`, supporterID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE supporter_id = ? AND personal = 1 AND status = 'pending'`, supporterID)
	return err
}
