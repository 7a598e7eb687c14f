package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/sendlog"
)

// Supporter statuses.
const (
	SupporterConfirmed   = "confirmed"
	SupporterUnconfirmed = string(sendlog.Unconfirmed) // the messages' word, which the SQL of both tables shares
)

// NewSupporter is a supporter about to be stored.
type NewSupporter struct {
	Campaign       string
	Email          string // normalized; mail goes here
	EmailKey       string // deduplication key (letter.EmailKey), unique per campaign; "" = Email
	FirstName      string
	LastName       string
	Postcode       string
	ConsentUpdates bool
	ConsentVersion string
	PrivacyVersion string
	Status         string // SupporterConfirmed (default) or SupporterUnconfirmed
	Source         string // the source code it came through (?source=), "" for none
	// The letter, as the supporter wrote it: stored once, whatever the
	// number of targets; each copy's greeting and signature are rendered
	// when it is sent.
	Subject string
	Body    string
	// Similarity is how much of Body is the campaign's letter, 0 to 1
	// (internal/similar); nil when not measured.
	Similarity *float64
	// Area is the area that area matching addressed every message of the
	// letter in, and AreasVersion the areas file's version that decided
	// it (issue 21); both "" when the campaign writes to all its targets.
	Area         string
	AreasVersion string
}

// WriteLetter is CreateLetter that also returns the new supporter's id (0
// for a repeat).
func (s *Store) WriteLetter(ctx context.Context, sup NewSupporter, targets []string) (id int64, created bool, err error) {
	if sup.Status == "" {
		sup.Status = SupporterConfirmed
	}
	// Concurrent calls share a transaction, each letter in its own
	// savepoint (writeLetter, below).
	id, err = s.writeLetter(ctx, sup, targets)
	if err != nil {
		return 0, false, fmt.Errorf("store: create letter: %w", err)
	}
	return id, id != 0, nil
}

// SupporterCount is the number of supporters who have written to a campaign.
func (s *Store) SupporterCount(ctx context.Context, campaign string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT supporters FROM counters WHERE campaign = ?`, campaign).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: supporter count: %w", err)
	}
	return n, nil
}

// Group commit of letters. A commit costs more than the inserts it makes
// durable (the WAL frames of every page touched are written at commit), so
// concurrent CreateLetter calls share transactions: the first caller to find
// no batch in progress becomes the leader and writes everything queued in one
// transaction, then the next lot, until the queue is empty; the others wait
// for their own result. Each letter runs inside its own SAVEPOINT, so one
// letter's failure is rolled back alone and reported to its caller only, and
// the unique index still decides, letter by letter, which submission from an
// address is the first. Only a failed BEGIN or COMMIT fails the whole batch,
// and then nothing of it was written.

// maxGroup bounds the letters written in one transaction.
const maxGroup = 128

// groupTimeout bounds one batch transaction; it does not depend on the
// context of the caller who happens to lead it.
const groupTimeout = 30 * time.Second

type letterJob struct {
	sup     NewSupporter
	targets []string          // target ids, one message each
	done    chan letterResult // buffered, 1
}

type letterResult struct {
	id  int64 // the new supporter; 0 for a repeat
	err error
}

type letterWriter struct {
	mu      sync.Mutex
	queue   []*letterJob
	leading bool
}

// writeLetter queues a letter for the next group transaction and returns
// its own result.
func (s *Store) writeLetter(ctx context.Context, sup NewSupporter, targets []string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	j := &letterJob{sup: sup, targets: targets, done: make(chan letterResult, 1)}
	lw := &s.letters
	lw.mu.Lock()
	lw.queue = append(lw.queue, j)
	lead := !lw.leading
	lw.leading = true
	lw.mu.Unlock()
	if lead {
		s.leadGroups(ctx)
	}
	r := <-j.done
	return r.id, r.err
}

// leadGroups writes queued letters in batches until the queue is empty.
func (s *Store) leadGroups(ctx context.Context) {
	lw := &s.letters
	for {
		lw.mu.Lock()
		n := min(len(lw.queue), maxGroup)
		if n == 0 {
			lw.leading = false
			lw.mu.Unlock()
			return
		}
		batch := make([]*letterJob, n)
		copy(batch, lw.queue)
		lw.queue = append(lw.queue[:0], lw.queue[n:]...)
		lw.mu.Unlock()
		s.writeGroup(context.WithoutCancel(ctx), batch)
	}
}

// writeGroup writes one batch in one transaction and answers every job.
//
// Rows are locked in one order by every writer, so that two instances
// writing groups on PostgreSQL at once wait for each other rather than
// deadlock: the letters by campaign and address (the order they arrived
// in among equals), the counts sorted. A letter that deadlocks all the
// same is written again inside the group.
func (s *Store) writeGroup(ctx context.Context, batch []*letterJob) {
	ctx, cancel := context.WithTimeout(ctx, groupTimeout)
	defer cancel()
	results := make([]letterResult, len(batch))
	now := s.nowMs()
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := batch[order[a]].sup, batch[order[b]].sup
		return x.Campaign < y.Campaign || x.Campaign == y.Campaign && keyOr(x.EmailKey, x.Email) < keyOr(y.EmailKey, y.Email)
	})
	var err error
	written := false
	if s.d.pg {
		// PostgreSQL: the whole group in two statements (a round trip
		// costs more than the rows); on any failure the letters are
		// written one by one below, each in its own savepoint.
		err = s.tx(ctx, func(tx *sql.Tx) error { return s.writeGroupBulk(ctx, tx, batch, order, results, now) })
		written = err == nil
	}
	if !written {
		err = s.tx(ctx, func(tx *sql.Tx) error {
			ins := s.letterStmts.in(ctx, tx)
			defer ins.close()
			var err error
			var n int
			if err = ins.wanted.QueryRowContext(ctx, hooksPattern(hookevent.LetterCreated)).Scan(&n); err != nil {
				return fmt.Errorf("webhook endpoints: %w", err)
			}
			ins.hooks = n > 0
			for _, i := range order {
				j := batch[i]
				id, err, fatal := ins.letter(ctx, tx, j.sup, j.targets, now)
				for try := 1; try < 3 && retryable(err) && fatal == nil; try++ {
					id, err, fatal = ins.letter(ctx, tx, j.sup, j.targets, now)
				}
				if fatal != nil {
					return fatal // the transaction itself is broken: fail the batch
				}
				results[i] = letterResult{id: id, err: err}
			}
			return ins.count(ctx, batch, results)
		})
	}
	if s.cp != nil {
		s.cp.groups.Add(1) // letters are arriving: no idle TRUNCATE now
	}
	for i, j := range batch {
		r := results[i]
		if err != nil { // the transaction failed: nothing of the batch was written
			r = letterResult{err: err}
		}
		j.done <- r
	}
}

// letterStmts are the sign path's statements, prepared once on the writer
// connection (Open) and bound to each group's transaction: parsing the SQL
// again for every letter, savepoint and count was an eighth of the sign
// path's CPU.
type letterStmts struct {
	supporter, message, savepoint, release, rollback, supporters, messages, wanted *sql.Stmt
	// hooks: an endpoint wants letter.created (asked once per group).
	hooks bool
}

type countKey struct{ campaign, target, status string }

func messageStatusFor(sup NewSupporter) string {
	if sup.Status == SupporterUnconfirmed {
		return string(sendlog.Unconfirmed)
	}
	return string(sendlog.Queued)
}

func prepareLetterStmts(ctx context.Context, db *sql.DB) (*letterStmts, error) {
	st := &letterStmts{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.supporter, `INSERT INTO supporters
			(campaign, email, email_key, first_name, last_name, postcode, consent_updates, consent_version, privacy_version, status, created_at,
			 subject, body, similarity, source)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign, email_key) DO NOTHING
			RETURNING id`},
		{&st.message, `INSERT INTO messages (supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at, area, areas_version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.savepoint, `SAVEPOINT letter`},
		{&st.release, `RELEASE letter`},
		{&st.rollback, `ROLLBACK TO letter`},
		{&st.supporters, `INSERT INTO counters (campaign, supporters) VALUES (?, ?)
			ON CONFLICT (campaign) DO UPDATE SET supporters = counters.supporters + excluded.supporters`},
		{&st.messages, `INSERT INTO message_counts (campaign, target_id, status, n) VALUES (?, ?, ?, ?)
			ON CONFLICT (campaign, target_id, status) DO UPDATE SET n = message_counts.n + excluded.n`},
		{&st.wanted, hooksWantedSQL},
	} {
		stmt, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("store: prepare %q: %w", strings.Fields(p.sql)[0], err)
		}
		*p.dst = stmt
	}
	return st, nil
}

// in binds the statements to tx (the same connection: nothing is prepared again).
func (st *letterStmts) in(ctx context.Context, tx *sql.Tx) *letterStmts {
	return &letterStmts{supporter: tx.StmtContext(ctx, st.supporter), message: tx.StmtContext(ctx, st.message),
		savepoint: tx.StmtContext(ctx, st.savepoint), release: tx.StmtContext(ctx, st.release),
		rollback: tx.StmtContext(ctx, st.rollback), supporters: tx.StmtContext(ctx, st.supporters),
		messages: tx.StmtContext(ctx, st.messages), wanted: tx.StmtContext(ctx, st.wanted)}
}

func (st *letterStmts) close() {
	for _, s := range []*sql.Stmt{st.supporter, st.message, st.savepoint, st.release, st.rollback, st.supporters, st.messages, st.wanted} {
		if s != nil {
			s.Close()
		}
	}
}

// count adds a group's new supporters and messages to the counters, once
// per campaign, target and status for the whole group (not by a trigger on
// every row), in sorted order (writeGroup).
func (st *letterStmts) count(ctx context.Context, batch []*letterJob, results []letterResult) error {
	counts := map[string]int{}
	msgCounts := map[countKey]int{}
	for i, j := range batch {
		if results[i].id == 0 {
			continue
		}
		counts[j.sup.Campaign]++
		for _, t := range j.targets {
			msgCounts[countKey{j.sup.Campaign, t, messageStatusFor(j.sup)}]++
		}
	}
	for _, campaign := range slices.Sorted(maps.Keys(counts)) {
		if _, err := st.supporters.ExecContext(ctx, campaign, counts[campaign]); err != nil {
			return fmt.Errorf("count supporters: %w", err)
		}
	}
	keys := slices.SortedFunc(maps.Keys(msgCounts), func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.campaign, b.campaign), cmp.Compare(a.target, b.target), cmp.Compare(a.status, b.status))
	})
	for _, k := range keys {
		if _, err := st.messages.ExecContext(ctx, k.campaign, k.target, k.status, msgCounts[k]); err != nil {
			return fmt.Errorf("count messages: %w", err)
		}
	}
	return nil
}

// letter writes one supporter, their letter and messages inside a savepoint. It
// returns created=false, and writes nothing, when the address has already
// written to the campaign (in an earlier transaction or earlier in this one).
// err is this letter's failure, rolled back to its savepoint; fatal is a
// failure of the savepoint itself, after which the transaction is not safe
// to continue.
func (st *letterStmts) letter(ctx context.Context, tx *sql.Tx, sup NewSupporter, targets []string, now int64) (id int64, err, fatal error) {
	if sup.EmailKey == "" {
		sup.EmailKey = sup.Email
	}
	msgStatus := messageStatusFor(sup)
	if _, err := st.savepoint.ExecContext(ctx); err != nil {
		return 0, nil, fmt.Errorf("savepoint: %w", err)
	}
	id, err = func() (int64, error) {
		var id int64
		err := st.supporter.QueryRowContext(ctx, sup.Campaign, sup.Email, sup.EmailKey, sup.FirstName, sup.LastName, sup.Postcode,
			intFlag(sup.ConsentUpdates), sup.ConsentVersion, sup.PrivacyVersion, sup.Status, now, sup.Subject, sup.Body, sup.Similarity, sup.Source).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil // already written: a repeat creates nothing
		}
		if err != nil {
			return 0, fmt.Errorf("insert supporter: %w", err)
		}
		for _, t := range targets {
			if _, err := st.message.ExecContext(ctx, id, sup.Campaign, t, msgStatus, now, now, now, sup.Area, sup.AreasVersion); err != nil {
				return 0, fmt.Errorf("insert message for %s: %w", t, err)
			}
		}
		if st.hooks {
			if err := appendHook(ctx, tx, letterCreated(id, sup, targets, now), now); err != nil {
				return 0, err
			}
		}
		return id, nil
	}()
	if err != nil {
		id = 0
		if _, rerr := st.rollback.ExecContext(ctx); rerr != nil {
			return 0, nil, errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
		}
	}
	if _, rerr := st.release.ExecContext(ctx); rerr != nil {
		return 0, nil, errors.Join(err, fmt.Errorf("release savepoint: %w", rerr))
	}
	return id, err, nil
}

// letterCreated is the letter.created event of a supporter just written.
func letterCreated(id int64, sup NewSupporter, targets []string, now int64) hookevent.Event {
	who := hookevent.Supporter{ID: id, ConsentUpdates: sup.ConsentUpdates, ConsentVersion: sup.ConsentVersion,
		FirstName: sup.FirstName, LastName: sup.LastName, Email: sup.Email, Postcode: sup.Postcode}
	if targets == nil {
		targets = []string{}
	}
	return hookevent.Event{Type: hookevent.LetterCreated, Campaign: sup.Campaign, SupporterID: id, At: time.UnixMilli(now),
		Personal: hookevent.Letter{Campaign: sup.Campaign, Supporter: who, Targets: targets, Source: sup.Source},
		Public:   hookevent.Letter{Campaign: sup.Campaign, Supporter: who.Public(), Targets: targets, Source: sup.Source}}
}
