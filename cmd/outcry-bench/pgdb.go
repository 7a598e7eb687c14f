package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver: the benchmark creates and drops its databases
)

// The PostgreSQL server of the sign-path-by-database section (issue 14):
// -pg names it (default OUTCRY_TEST_PG, the throwaway server .ci/pg
// starts). The benchmark creates a fresh database there for each
// measurement, named benchDBPrefix and random hex, and drops it at the end;
// it never touches any other database on the server.

const benchDBPrefix = "outcry_bench_"

// benchDBName is a new database name from random bytes.
func benchDBName(random []byte) string { return benchDBPrefix + hex.EncodeToString(random) }

// isBenchDBName reports whether name is one the benchmark makes: the prefix
// and lower-case hex, nothing else. Identifiers cannot be bound parameters,
// so the name is written into CREATE and DROP DATABASE; this is what makes
// that safe, and what keeps a DROP away from any database not ours.
func isBenchDBName(name string) bool {
	h, ok := strings.CutPrefix(name, benchDBPrefix)
	if !ok || h == "" {
		return false
	}
	for _, c := range h {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// databaseURL is the server's URL with its database replaced by name; the
// user, password, host and query (sslmode…) stay. The error never repeats
// the URL (it may hold a password).
func databaseURL(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("-pg is not a URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("-pg must be a postgres:// URL, not %q", u.Scheme+"://…")
	}
	if !isBenchDBName(name) {
		return "", fmt.Errorf("%q is not a benchmark database name", name)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}

// isLoopback reports whether the server URL names this machine (a
// loopback address or a Unix socket): only then are its processes ours to
// read in /proc.
func isLoopback(server string) bool {
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "" {
		host = u.Query().Get("host")
	}
	if host == "" || strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactedURL is the URL for output, without its password.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}

// pgServer is a connection to the -pg server's own database, used only to
// create and drop the benchmark's databases.
type pgServer struct {
	url     string
	admin   *sql.DB
	Version string
	created []string
}

func openPGServer(ctx context.Context, server string) (*pgServer, error) {
	if _, err := databaseURL(server, benchDBPrefix+"0"); err != nil {
		return nil, err
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		return nil, fmt.Errorf("-pg %s: %w", redactedURL(server), err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p := &pgServer{url: server, admin: admin}
	if err := admin.QueryRowContext(ctx, `SHOW server_version`).Scan(&p.Version); err != nil {
		admin.Close()
		return nil, fmt.Errorf("-pg %s: %w", redactedURL(server), err)
	}
	return p, nil
}

// create makes a fresh, empty database and returns its URL and name.
func (p *pgServer) create(ctx context.Context) (string, string, error) {
	b := make([]byte, 6)
	rand.Read(b)
	name := benchDBName(b)
	u, err := databaseURL(p.url, name)
	if err != nil {
		return "", "", err
	}
	if _, err := p.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	p.created = append(p.created, name)
	return u, name, nil
}

// backendCPU is the CPU time used so far by each server process serving
// database name (from pg_stat_activity and /proc: only when the server runs
// on this machine; a process this one may not read is left out).
func (p *pgServer) backendCPU(ctx context.Context, name string) (map[int]float64, error) {
	rows, err := p.admin.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("list the server processes of %s: %w", name, err)
	}
	defer rows.Close()
	cpu := map[int]float64{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		if s, err := procCPU(pid); err == nil {
			cpu[pid] = s
		}
	}
	return cpu, rows.Err()
}

// cpuUsed is the CPU time the processes in after used since before (a
// process new in after counts whole: it began in between).
func cpuUsed(before, after map[int]float64) float64 {
	used := 0.0
	for pid, s := range after {
		used += max(0, s-before[pid])
	}
	return used
}

// close drops every database create made (closing what still uses them)
// and the connection.
func (p *pgServer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var first error
	for _, name := range p.created {
		if !isBenchDBName(name) {
			continue // never: create only records names it made
		}
		if _, err := p.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil && first == nil {
			first = fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	p.created = nil
	p.admin.Close()
	return first
}
