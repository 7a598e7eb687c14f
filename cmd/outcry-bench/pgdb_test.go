package main

import (
	"strings"
	"testing"
)

// The benchmark writes its database name into CREATE and DROP DATABASE:
// only its own prefix and hex pass, so nothing else can be dropped or
// injected.
func TestBenchDBName(t *testing.T) {
	name := benchDBName([]byte{0x00, 0xab, 0xff})
	if name != "outcry_bench_00abff" || !isBenchDBName(name) {
		t.Fatalf("benchDBName = %q (valid %v)", name, isBenchDBName(name))
	}
	for _, bad := range []string{"", "outcry_bench_", "postgres", "outcry_test_00ab", "outcry_bench_00AB",
		"outcry_bench_00; DROP DATABASE postgres", "outcry_bench_0g", "xoutcry_bench_00", `outcry_bench_00"`} {
		if isBenchDBName(bad) {
			t.Errorf("isBenchDBName(%q) = true", bad)
		}
	}
}

// databaseURL swaps the database and keeps the rest of the server's URL;
// its errors never repeat a password.
func TestDatabaseURL(t *testing.T) {
	for _, c := range []struct{ server, want string }{
		{"postgres://outcry@127.0.0.1:55432/postgres?sslmode=disable", "postgres://outcry@127.0.0.1:55432/outcry_bench_01?sslmode=disable"},
		{"postgresql://u:s3cret@db.example:5432/app", "postgresql://u:s3cret@db.example:5432/outcry_bench_01"},
		{"postgres://u@localhost", "postgres://u@localhost/outcry_bench_01"},
		{"postgres://u@localhost/", "postgres://u@localhost/outcry_bench_01"},
		{"postgres:///postgres?host=/tmp/pg&port=5433", "postgres:///outcry_bench_01?host=/tmp/pg&port=5433"},
	} {
		got, err := databaseURL(c.server, "outcry_bench_01")
		if err != nil || got != c.want {
			t.Errorf("databaseURL(%q) = %q, %v; want %q", c.server, got, err, c.want)
		}
	}
	for _, bad := range []string{"/tmp/outcry.db", "mysql://u:s3cret@h/db", "postgres://u:s3cret@h/%zz", ""} {
		_, err := databaseURL(bad, "outcry_bench_01")
		if err == nil {
			t.Errorf("databaseURL(%q): no error", bad)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("databaseURL(%q): error shows the password: %v", bad, err)
		}
	}
	if _, err := databaseURL("postgres://u@h/postgres", "postgres"); err == nil {
		t.Error("databaseURL accepted a name the benchmark does not make")
	}
	if r := redactedURL("postgres://u:s3cret@h/postgres"); strings.Contains(r, "s3cret") {
		t.Errorf("redactedURL = %q", r)
	}
}

// The PostgreSQL server's processes are read from /proc only when the
// server is on this machine.
func TestIsLoopback(t *testing.T) {
	for server, want := range map[string]bool{
		"postgres://outcry@127.0.0.1:55432/postgres": true,
		"postgres://outcry@localhost/postgres":       true,
		"postgres://outcry@[::1]:5432/postgres":      true,
		"postgres:///postgres?host=/tmp/pg":          true,
		"postgres://u@db.example:5432/app":           false,
		"postgres://u@10.0.0.5/app":                  false,
		"postgres:///app?host=db.example":            false,
	} {
		if got := isLoopback(server); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", server, got, want)
		}
	}
}

// A server process that began between the two readings counts whole; one
// that ended counts nothing (its time is lost, not negative).
func TestCPUUsed(t *testing.T) {
	before := map[int]float64{1: 1.0, 2: 5.0, 3: 2.0}
	after := map[int]float64{1: 1.5, 2: 5.25, 4: 0.5}
	if got := cpuUsed(before, after); got != 1.25 {
		t.Fatalf("cpuUsed = %v, want 1.25", got)
	}
}
