package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/outcry/outcry/internal/sendlog"
)

// purgeBatch is the most rows one purge transaction changes.
const purgeBatch = 500

// inBatches runs a purge in pieces: it reads, on a read connection, the
// ids of up to purgeBatch rows that pick selects, and hands them to apply
// in a write transaction of its own, until pick finds no more. apply
// re-checks pick's conditions (a row may have changed since it was read)
// and changes each row so that pick no longer selects it; it returns how
// many rows it changed. A batch that changes nothing ends the purge (its
// rows changed meanwhile; the next purge sees what is left).
//
// Neither the search nor the writes hold the writer for long. As one
// write transaction, the purge of letter text scanned the supporters
// table while every letter's group commit waited: 357 ms once 600,000
// letters were in, growing with the table. Each pick reads an index of
// the rows whose text is still kept (migration 190), so it costs nothing
// while no row is due (the legacy message copies excepted: see
// PurgeLetterText); each write changes at most purgeBatch rows by id.
func (s *Store) inBatches(ctx context.Context, pick string, args []any, apply func(tx *sql.Tx, ids []int64) (int64, error)) (int64, error) {
	var total int64
	for {
		ids, err := s.pickIDs(ctx, pick+` LIMIT `+fmt.Sprint(purgeBatch), args)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		var n int64
		if err := s.tx(ctx, func(tx *sql.Tx) (err error) {
			n, err = apply(tx, ids)
			return err
		}); err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

func (s *Store) pickIDs(ctx context.Context, q string, args []any) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// idIn is "id IN (?, …)" for n ids.
func idIn(n int) string { return `id IN (?` + strings.Repeat(",?", n-1) + `)` }

// PurgeUnconfirmed deletes supporters still unconfirmed who wrote before
// cutoff, with their held messages, and takes them off the counts.
func (s *Store) PurgeUnconfirmed(ctx context.Context, cutoff time.Time) (int, error) {
	const expired = `status = ` + sqlUnconfirmed + ` AND created_at < ?`
	at := cutoff.UnixMilli()
	n, err := s.inBatches(ctx, `SELECT id FROM supporters WHERE `+expired, []any{at}, func(tx *sql.Tx, ids []int64) (int64, error) {
		rows, err := tx.QueryContext(ctx, `SELECT id, campaign FROM supporters WHERE `+idIn(len(ids))+` AND `+expired, append(anys(ids), at)...)
		if err != nil {
			return 0, err
		}
		type sup struct {
			id       int64
			campaign string
		}
		var sups []sup
		for rows.Next() {
			var x sup
			if err := rows.Scan(&x.id, &x.campaign); err != nil {
				rows.Close()
				return 0, err
			}
			sups = append(sups, x)
		}
		if err := rows.Close(); err != nil {
			return 0, err
		}
		for _, x := range sups {
			for _, q := range []string{
				`DELETE FROM message_events WHERE message_id IN (SELECT id FROM messages WHERE supporter_id = ?)`,
				`DELETE FROM messages WHERE supporter_id = ?`,
				`DELETE FROM supporters WHERE id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, q, x.id); err != nil {
					return 0, err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE counters SET supporters = CASE WHEN supporters > 0 THEN supporters - 1 ELSE 0 END WHERE campaign = ?`, x.campaign); err != nil {
				return 0, err
			}
		}
		return int64(len(sups)), nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge unconfirmed: %w", err)
	}
	return int(n), nil
}

// purgeStep is one table's part of PurgeLetterText: set where where holds
// (count: whether its rows count in what the purge returns).
type purgeStep struct {
	table, set, where string
	args              []any
	count             bool
}

// PurgeLetterText empties the letters of supporters whose every message
// reached a final state before cutoff (the subject and body, and the kept
// copies of messages queued before letters were stored once). The rows
// stay: the send log and the counts. What came back (issue 22) is kept as
// long as letters are: the text of replies, and of supporter mails no
// longer waiting to go, is emptied too. It returns how many letters and
// message copies it emptied.
func (s *Store) PurgeLetterText(ctx context.Context, cutoff time.Time) (int64, error) {
	at := cutoff.UnixMilli()
	steps := []purgeStep{
		{"supporters", `subject = '', body = ''`, `created_at < ? AND (body <> '' OR subject <> '')
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.supporter_id = supporters.id
				AND (m.status IN ` + pendingStatusList + ` OR m.updated_at >= ?))`, []any{at, at}, true},
		{"replies", `subject = '', body = '', from_name = ''`, `received_at < ? AND (body <> '' OR subject <> '')`, []any{at}, false},
		{"mails", `body = ''`, `created_at < ? AND body <> ''
			AND status NOT IN (` + sendlog.SQLList(sendlog.Queued, sendlog.Sending) + `)`, []any{at}, false},
	}
	// The copies kept from before letters were stored once: one step per
	// final status. Each walks that status's messages (messages_status_id)
	// on a reader, which grows with the messages sent; no index serves it
	// (messages_updated went when migration 007 rebuilt the table). An
	// index of the kept copies alone, like the others here, was tried and
	// dropped: the overload runs of the binaries with it peaked at 310-353
	// MiB RSS, those without at 212-261 (and once 405).
	for _, f := range finalStatuses {
		steps = append(steps, purgeStep{"messages", `rendered = NULL`, `status = ? AND updated_at < ? AND rendered IS NOT NULL`, []any{string(f), at}, true})
	}
	var total int64
	for _, st := range steps {
		n, err := s.inBatches(ctx, `SELECT id FROM `+st.table+` WHERE `+st.where, st.args, func(tx *sql.Tx, ids []int64) (int64, error) {
			res, err := tx.ExecContext(ctx, `UPDATE `+st.table+` SET `+st.set+` WHERE `+idIn(len(ids))+` AND `+st.where, append(anys(ids), st.args...)...)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		})
		if err != nil {
			return 0, fmt.Errorf("store: purge letter text (%s): %w", st.table, err)
		}
		if st.count {
			total += n
		}
	}
	return total, nil
}

// finalStatuses are the statuses after which a message's text is no
// longer needed to send it; pendingStatusList the others, as an SQL list.
var finalStatuses, pendingStatusList = func() ([]sendlog.Status, string) {
	var final, pending []sendlog.Status
	for _, s := range sendlog.All {
		if s.Final() {
			final = append(final, s)
		} else {
			pending = append(pending, s)
		}
	}
	return final, "(" + sendlog.SQLList(pending...) + ")"
}()
