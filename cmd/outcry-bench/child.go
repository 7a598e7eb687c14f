package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a server process started by the benchmark.
type child struct {
	name string
	cmd  *exec.Cmd
	url  string
	log  string
	done chan error

	once    sync.Once
	stopErr error
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startChild runs bin with args and extra environment, logging to a file in
// dir, and waits (at most 60 s) until GET /healthz answers 200.
func startChild(ctx context.Context, name, dir, addr, bin string, args, env []string) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(childEnviron(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, url: "http://" + addr, log: logPath, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			return nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", name, err, tail(logPath))
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := http.Get(c.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
	}
	c.stop()
	return nil, fmt.Errorf("%s not ready after 60 s:\n%s", name, tail(logPath))
}

// peakRSS is the child's VmHWM (peak resident set size) in MiB.
func (c *child) peakRSS() (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmHWM %q: %w", v, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", c.cmd.Process.Pid)
}

// stop sends SIGTERM and waits up to 30 s for a graceful exit, then kills.
// Calling it again returns the first result.
func (c *child) stop() error {
	c.once.Do(func() { c.stopErr = c.doStop() })
	return c.stopErr
}

func (c *child) doStop() error {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", c.name, err, tail(c.log))
		}
		return nil
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within 30 s after SIGTERM; killed", c.name)
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// childEnviron is this process's environment without outcry's and
// SendGrid's settings: a child gets only those the benchmark gives it, so
// that "defaults" means outcry's defaults whatever the shell exported.
func childEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OUTCRY_") && !strings.HasPrefix(kv, "SENDGRID_") {
			env = append(env, kv)
		}
	}
	return env
}

// cpuSeconds is the CPU time (user + system) the child has used so far,
// from /proc/<pid>/stat (clock ticks of 1/100 s, Linux's USER_HZ).
func (c *child) cpuSeconds() (float64, error) { return procCPU(c.cmd.Process.Pid) }

// procCPU is the CPU time (user + system) process pid has used so far.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields counted from 3 follow the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseFloat(f[11], 64) // field 14
	stime, err2 := strconv.ParseFloat(f[12], 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return (utime + stime) / 100, nil
}
