// Package pgtest gives a test its own empty PostgreSQL database on the
// server that OUTCRY_TEST_PG names (.ci/pg starts a throwaway one).
// Without it the test is skipped with a message; with OUTCRY_REQUIRE_PG=1
// (set in CI) it fails instead, so that a missing server never passes.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// URL creates a database for t, dropped when t ends, and returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	server := os.Getenv("OUTCRY_TEST_PG")
	if server == "" {
		if os.Getenv("OUTCRY_REQUIRE_PG") == "1" {
			t.Fatal("OUTCRY_REQUIRE_PG=1 but OUTCRY_TEST_PG is not set: start a server with .ci/pg start")
		}
		t.Skip("no PostgreSQL for this test: set OUTCRY_TEST_PG to a server's URL (eval \"$(.ci/pg start)\" starts a throwaway one)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("OUTCRY_TEST_PG: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "outcry_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("OUTCRY_TEST_PG: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := sql.Open("pgx", server)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("OUTCRY_TEST_PG: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// storeEnv, set to "postgres", runs the suites of the store's consumers on
// PostgreSQL (.ci/run does, after the main run): DB then gives each test a
// new PostgreSQL database instead of its SQLite file.
const storeEnv = "OUTCRY_TEST_STORE"

// DB is the database a consumer's test opens: sqlitePath, or a new
// PostgreSQL database when OUTCRY_TEST_STORE=postgres.
func DB(t testing.TB, sqlitePath string) string {
	t.Helper()
	if os.Getenv(storeEnv) == "postgres" {
		return URL(t)
	}
	return sqlitePath
}

// SQLiteOnly skips, in the PostgreSQL run, a test that reads the SQLite
// file itself.
func SQLiteOnly(t testing.TB) {
	t.Helper()
	if os.Getenv(storeEnv) == "postgres" {
		t.Skip("reads the SQLite file: runs on SQLite only")
	}
}
