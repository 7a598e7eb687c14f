package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/outcry/outcry/internal/hookevent"
)

// PostgreSQL runs the same store as SQLite: the store's SQL is written once,
// in the subset both understand (ON CONFLICT, RETURNING, partial indexes,
// integer times and flags), and a thin database/sql driver over pgx turns
// it into PostgreSQL's spelling on the way: ? placeholders become $n,
// SQLite's index hints go, LIKE becomes ILIKE (SQLite's LIKE ignores the
// case of ASCII letters), and booleans travel as 0 or 1 both ways. What
// differs in substance asks Store.pg: the migrations, the erasure's
// checkpoint (VACUUM), and the sign path's group of letters, written in two
// statements (writeGroupBulk) because a round trip to the server costs
// more than the rows.

// IsPostgres reports whether OUTCRY_DB names a PostgreSQL database rather
// than a SQLite file.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openPostgres opens a pool on the database at url.
func openPostgres(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: OUTCRY_DB is not a valid PostgreSQL URL: %w", err)
	}
	db := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	return db, nil
}

type pgConnector struct{ inner driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{conn.(*stdlib.Conn)}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is pgx's connection with the store's SQL rewritten on the way in;
// everything else (transactions, pings, session reset) is pgx's own.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, pgSQL(query))
	if err != nil {
		return nil, err
	}
	return pgStmt{st.(*stdlib.Stmt)}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, pgSQL(query), pgArgs(args))
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return pgResult(c.Conn.QueryContext(ctx, pgSQL(query), pgArgs(args)))
}

type pgStmt struct{ *stdlib.Stmt }

func (s pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.ExecContext(ctx, pgArgs(args))
}

func (s pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return pgResult(s.Stmt.QueryContext(ctx, pgArgs(args)))
}

// pgRows hands booleans (EXISTS, comparisons) back as the 0 and 1 SQLite
// gives, which scan into an int and a bool alike.
type pgRows struct{ *stdlib.Rows }

func pgResult(rows driver.Rows, err error) (driver.Rows, error) {
	if err != nil {
		return nil, err
	}
	return pgRows{rows.(*stdlib.Rows)}, nil
}

func (r pgRows) Next(dest []driver.Value) error {
	if err := r.Rows.Next(dest); err != nil {
		return err
	}
	for i, v := range dest {
		if b, ok := v.(bool); ok {
			dest[i] = int64(0)
			if b {
				dest[i] = int64(1)
			}
		}
	}
	return nil
}

// pgArgs sends booleans as the 0 and 1 the schema stores.
func pgArgs(args []driver.NamedValue) []driver.NamedValue {
	for i, a := range args {
		if b, ok := a.Value.(bool); ok {
			args[i].Value = int64(0)
			if b {
				args[i].Value = int64(1)
			}
		}
	}
	return args
}

var pgRewrites sync.Map // SQLite spelling -> PostgreSQL spelling

// pgSQL rewrites one statement; results are kept, as the store's
// statements are a fixed set.
func pgSQL(q string) string {
	if v, ok := pgRewrites.Load(q); ok {
		return v.(string)
	}
	out := rewriteForPostgres(q)
	pgRewrites.Store(q, out)
	return out
}

// sqliteSpelling spells SQLite's random id in PostgreSQL and turns a CROSS
// JOIN (which keeps SQLite's table order) into a plain JOIN.
var sqliteSpelling = strings.NewReplacer(
	"lower(hex(randomblob(12)))", "left(md5(gen_random_uuid()::text), 24)",
	"CROSS JOIN", "JOIN")

// rewriteForPostgres turns ? and ?N into $n, drops the hints that steer
// SQLite's planner (INDEXED BY, a unary + before a column), reads LIKE as
// ILIKE and replaces SQLite's random id expression, leaving string
// literals, quoted names and comments alone.
func rewriteForPostgres(q string) string {
	q = sqliteSpelling.Replace(q)
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			b.WriteString(q[i:min(j+1, len(q))])
			i = j + 1
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				b.WriteString("$" + q[i+1:j])
			} else {
				n++
				b.WriteString("$" + strconv.Itoa(n))
			}
			i = j
		case c == '+' && i+1 < len(q) && isWordByte(q[i+1]) && (i == 0 || q[i-1] == ' ' || q[i-1] == '('):
			i++ // a unary + that keeps SQLite off an index
		case wordAt(q, i, "INDEXED BY"):
			j := i + len("INDEXED BY")
			for j < len(q) && q[j] == ' ' {
				j++
			}
			for j < len(q) && (isWordByte(q[j])) {
				j++
			}
			if j < len(q) && q[j] == ' ' {
				j++
			}
			i = j
		case wordAt(q, i, "LIKE"):
			b.WriteString("ILIKE")
			i += len("LIKE")
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// wordAt reports whether q has the keyword w at i, as a whole word.
func wordAt(q string, i int, w string) bool {
	if !strings.HasPrefix(q[i:], w) {
		return false
	}
	if i > 0 && isWordByte(q[i-1]) {
		return false
	}
	end := i + len(w)
	return end >= len(q) || !isWordByte(q[end])
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isUniqueViolation reports whether err is a unique constraint failing, in
// either database.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// retryable reports whether a PostgreSQL transaction failed only because
// it met another one (a deadlock, a serialization failure) and may simply
// run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func openPostgresStore(ctx context.Context, url string) (*Store, error) {
	db, err := openPostgres(url)
	if err != nil {
		return nil, err
	}
	s := &Store{w: db, r: db, pg: true, now: time.Now}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL: %w", err)
	}
	if err := s.migrate(ctx, math.MaxInt); err != nil {
		db.Close()
		return nil, err
	}
	if s.letterStmts, err = prepareLetterStmts(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// migrationLock is the advisory lock that makes instances starting together
// apply PostgreSQL's migrations one at a time.
const migrationLock = 0x6f757463 // "outc"

// migratePostgres applies pgmigrations/ in order, each in a transaction,
// under an advisory lock held on one connection: a second instance starting
// at the same moment waits, then finds them applied.
func (s *Store) migratePostgres(ctx context.Context) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, migrationLock); err != nil {
		return fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(?)`, migrationLock)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	files, err := migrationFiles(pgMigrations, "pgmigrations")
	if err != nil {
		return err
	}
	for _, m := range files {
		var done int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if done > 0 {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		_, err = tx.ExecContext(ctx, m.body)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, s.nowMs())
		}
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// pgConnectionLost reports whether err is a PostgreSQL server out of reach
// (no connection, a broken one, a server shutting down).
func pgConnectionLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne)
}

// pgStorageFailure reports whether err is PostgreSQL out of reach or unable
// to write: no connection, a server shutting down, a full disk, an I/O
// error, a read-only server (a standby).
func pgStorageFailure(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		for _, class := range []string{"08", "53", "58", "57P", "25006"} {
			if strings.HasPrefix(pe.Code, class) {
				return true
			}
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne)
}

// writeGroupBulk writes a group of letters on PostgreSQL in two statements:
// every supporter (an address already in the campaign, or twice in the
// group, is a repeat: the first in order is written), then every message of
// the supporters written. It fills results by job; any error leaves the
// transaction to be rolled back.
func (s *Store) writeGroupBulk(ctx context.Context, tx *sql.Tx, batch []*letterJob, order []int, results []letterResult, now int64) error {
	var campaign, email, key, first, last, postcode, consentVersion, privacyVersion, status, subject, body, source []string
	var consent []int64
	for _, i := range order {
		sup := batch[i].sup
		campaign = append(campaign, sup.Campaign)
		email = append(email, sup.Email)
		key = append(key, keyOr(sup.EmailKey, sup.Email))
		first, last, postcode = append(first, sup.FirstName), append(last, sup.LastName), append(postcode, sup.Postcode)
		c := int64(0)
		if sup.ConsentUpdates {
			c = 1
		}
		consent = append(consent, c)
		consentVersion, privacyVersion = append(consentVersion, sup.ConsentVersion), append(privacyVersion, sup.PrivacyVersion)
		status, subject, body = append(status, sup.Status), append(subject, sup.Subject), append(body, sup.Body)
		source = append(source, sup.Source)
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO supporters
			(campaign, email, email_key, first_name, last_name, postcode, consent_updates, consent_version, privacy_version, status, created_at, subject, body, source)
		SELECT u.campaign, u.email, u.email_key, u.first_name, u.last_name, u.postcode, u.consent_updates, u.consent_version,
			u.privacy_version, u.status, ?::bigint, u.subject, u.body, u.source
		FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
			WITH ORDINALITY AS u(campaign, email, email_key, first_name, last_name, postcode, consent_updates, consent_version,
				privacy_version, status, subject, body, source, n)
		ORDER BY u.n
		ON CONFLICT (campaign, email_key) DO NOTHING
		RETURNING id, campaign, email_key`,
		now, campaign, email, key, first, last, postcode, consent, consentVersion, privacyVersion, status, subject, body, source)
	if err != nil {
		return fmt.Errorf("insert supporters: %w", err)
	}
	ids := map[[2]string]int64{}
	for rows.Next() {
		var id int64
		var c, k string
		if err := rows.Scan(&id, &c, &k); err != nil {
			rows.Close()
			return fmt.Errorf("insert supporters: %w", err)
		}
		ids[[2]string{c, k}] = id
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("insert supporters: %w", err)
	}
	var supID []int64
	var msgCampaign, target, msgStatus []string
	for n, i := range order {
		k := [2]string{campaign[n], key[n]}
		id := ids[k]
		delete(ids, k) // a second letter from the address in this group is a repeat
		results[i] = letterResult{id: id}
		for _, t := range batch[i].targets {
			if id == 0 {
				break
			}
			supID, msgCampaign, target = append(supID, id), append(msgCampaign, campaign[n]), append(target, t)
			msgStatus = append(msgStatus, messageStatusFor(batch[i].sup))
		}
	}
	if len(supID) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages (supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at)
			SELECT u.s, u.c, u.t, u.st, ?::bigint, ?::bigint, ?::bigint FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) AS u(s, c, t, st)`,
			now, now, now, supID, msgCampaign, target, msgStatus); err != nil {
			return fmt.Errorf("insert messages: %w", err)
		}
	}
	hooks, err := hooksWanted(ctx, tx, hookevent.LetterCreated)
	if err != nil {
		return err
	}
	for _, i := range order {
		if id := results[i].id; hooks && id != 0 {
			if err := appendHook(ctx, tx, letterCreated(id, batch[i].sup, batch[i].targets, now), now); err != nil {
				return err
			}
		}
	}
	ins := s.letterStmts.in(ctx, tx)
	defer ins.close()
	return ins.count(ctx, batch, results)
}
