package store

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/outcry/outcry/internal/pgtest"
)

// The store's tests are one suite for both databases: they run on SQLite,
// then, when a PostgreSQL server is at hand (OUTCRY_TEST_PG), the test
// binary runs itself again with onPostgres set and every test that opens
// its store with testDB runs there too.
const dialectEnv = "OUTCRY_STORE_TEST_POSTGRES"

var onPostgres = os.Getenv(dialectEnv) == "1"

func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 || onPostgres {
		os.Exit(code)
	}
	if os.Getenv("OUTCRY_TEST_PG") == "" {
		if os.Getenv("OUTCRY_REQUIRE_PG") == "1" {
			fmt.Println("FAIL: OUTCRY_REQUIRE_PG=1 but OUTCRY_TEST_PG is not set: the store's suite did not run on PostgreSQL")
			os.Exit(1)
		}
		fmt.Println("the store's suite ran on SQLite only: set OUTCRY_TEST_PG (eval \"$(.ci/pg start)\") to run it on PostgreSQL too")
		os.Exit(0)
	}
	fmt.Println("== the store's suite again, on PostgreSQL")
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), dialectEnv+"=1")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Println("FAIL: the store's suite on PostgreSQL:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// testDB is where a test's store lives: a file in t's temporary folder, or
// a new PostgreSQL database in the PostgreSQL run.
func testDB(t testing.TB) string {
	if onPostgres {
		return pgtest.URL(t)
	}
	return filepath.Join(t.TempDir(), "test.db")
}

// sqliteOnly skips a test of SQLite's file (its bytes, its pragmas, its old
// migrations) in the PostgreSQL run.
func sqliteOnly(t testing.TB) {
	if onPostgres {
		t.Skip("a test of the SQLite file")
	}
}
