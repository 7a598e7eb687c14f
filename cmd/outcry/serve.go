package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/outcry/outcry/internal/app"
	"github.com/outcry/outcry/internal/config"
)

func serve(ctx context.Context, getenv func(string) string, logOut io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(logOut, cfg.LogLevel, cfg.LogFormat)
	slog.SetDefault(log)
	a, err := app.Build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Store.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on OUTCRY_ADDR=%s: %w", cfg.Addr, err)
	}
	return a.Run(ctx, ln)
}
