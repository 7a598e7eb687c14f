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
// integer times and flags), with ? placeholders, which a thin database/sql
// driver over pgx numbers ($1, $2…) on the way: it changes nothing else.
// Where the two databases differ (a case-insensitive LIKE, a random id,
// SQLite's planner hints), the query says so through the store's dialect
// (dialect.go). What differs in substance asks Store.d.pg: the
// migrations' files, the erasure's checkpoint (VACUUM), and the sign
// path's group of letters, written in two statements (writeGroupBulk)
// because a round trip to the server costs more than the rows.

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

// pgConn is pgx's connection with the store's ? placeholders numbered on
// the way in (pgPlaceholders); everything else (transactions, pings,
// session reset, the values both ways) is pgx's own.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, pgSQL(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, pgSQL(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, pgSQL(query), args)
}

var pgQueries sync.Map // the store's spelling -> PostgreSQL's placeholders

// pgSQL numbers one statement's placeholders; results are kept, as the
// store's statements are a fixed set.
func pgSQL(q string) string {
	if v, ok := pgQueries.Load(q); ok {
		return v.(string)
	}
	out := pgPlaceholders(q)
	pgQueries.Store(q, out)
	return out
}

// pgPlaceholders turns ? into $1, $2… in order and ?N into $N, leaving
// alone what is inside string literals ('it”s ?'), quoted names, line
// comments (-- ?) and block comments (/* ? */). It changes nothing else:
// where the databases differ, the query says so (dialect.go).
func pgPlaceholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			// A doubled quote inside is the quote itself: the scan
			// leaves at the first quote and comes back in at the next.
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			j = min(j+1, len(q))
			b.WriteString(q[i:j])
			i = j
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				j = len(q)
			} else {
				j = i + 2 + j + 2
			}
			b.WriteString(q[i:j])
			i = j
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
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
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
	s := &Store{w: db, r: db, d: dialect{pg: true}, now: time.Now}
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
	var similarity []*float64
	for _, i := range order {
		sup := batch[i].sup
		campaign = append(campaign, sup.Campaign)
		email = append(email, sup.Email)
		key = append(key, keyOr(sup.EmailKey, sup.Email))
		first, last, postcode = append(first, sup.FirstName), append(last, sup.LastName), append(postcode, sup.Postcode)
		consent = append(consent, intFlag(sup.ConsentUpdates))
		consentVersion, privacyVersion = append(consentVersion, sup.ConsentVersion), append(privacyVersion, sup.PrivacyVersion)
		status, subject, body = append(status, sup.Status), append(subject, sup.Subject), append(body, sup.Body)
		similarity = append(similarity, sup.Similarity)
		source = append(source, sup.Source)
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO supporters
			(campaign, email, email_key, first_name, last_name, postcode, consent_updates, consent_version, privacy_version, status, created_at, subject, body, similarity, source)
		SELECT u.campaign, u.email, u.email_key, u.first_name, u.last_name, u.postcode, u.consent_updates, u.consent_version,
			u.privacy_version, u.status, ?::bigint, u.subject, u.body, u.similarity, u.source
		FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::float8[], ?::text[])
			WITH ORDINALITY AS u(campaign, email, email_key, first_name, last_name, postcode, consent_updates, consent_version,
				privacy_version, status, subject, body, similarity, source, n)
		ORDER BY u.n
		ON CONFLICT (campaign, email_key) DO NOTHING
		RETURNING id, campaign, email_key`,
		now, campaign, email, key, first, last, postcode, consent, consentVersion, privacyVersion, status, subject, body, similarity, source)
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
	var msgCampaign, target, msgStatus, msgArea, msgVersion []string
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
			msgArea, msgVersion = append(msgArea, batch[i].sup.Area), append(msgVersion, batch[i].sup.AreasVersion)
		}
	}
	if len(supID) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages (supporter_id, campaign, target_id, status, next_attempt_at, queued_at, updated_at, area, areas_version)
			SELECT u.s, u.c, u.t, u.st, ?::bigint, ?::bigint, ?::bigint, u.a, u.v
			FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS u(s, c, t, st, a, v)`,
			now, now, now, supID, msgCampaign, target, msgStatus, msgArea, msgVersion); err != nil {
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
