package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outcry/outcry/internal/letter"
	"github.com/outcry/outcry/internal/store"
)

// serveBaseline runs one of the baseline servers in this (child) process
// until SIGTERM: "bare" answers 200 to everything; "insert" binds and
// validates the same JSON letter as outcry's API and inserts one row into
// SQLite (the store's DSN: same pragmas, one writer connection) in a
// transaction.
func serveBaseline(kind, addr, dbPath string) error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	switch kind {
	case "bare":
		e.POST("/*", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	case "insert":
		db, err := sql.Open("sqlite", store.DSN(dbPath))
		if err != nil {
			return fmt.Errorf("baseline: open %s: %w", dbPath, err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS letters (id INTEGER PRIMARY KEY,
			email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("baseline: create table: %w", err)
		}
		e.POST("/*", func(c echo.Context) error {
			var sub letter.Submission
			dec := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10+1))
			if err := dec.Decode(&sub); err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "bad json")
			}
			if err := sub.Validate(); err != nil {
				return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": err})
			}
			ctx := c.Request().Context()
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO letters (email, name, body, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (email) DO NOTHING`, sub.Email, sub.FirstName+" "+sub.LastName, sub.Body, time.Now().UnixMilli()); err != nil {
				tx.Rollback()
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			return c.JSON(http.StatusAccepted, map[string]string{"status": "accepted"})
		})
	default:
		return fmt.Errorf("unknown baseline %q", kind)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
