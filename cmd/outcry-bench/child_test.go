package main

import (
	"os/exec"
	"testing"
	"time"
)

// cpuSeconds reads the child's own CPU time: it grows while the child
// spins and stays near zero for one that sleeps.
func TestCPUSeconds(t *testing.T) {
	spin := exec.Command("sh", "-c", "while :; do :; done")
	sleep := exec.Command("sleep", "30")
	for _, cmd := range []*exec.Cmd{spin, sleep} {
		if err := cmd.Start(); err != nil {
			t.Skip("no sh/sleep:", err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
	}
	busy, idle := &child{cmd: spin}, &child{cmd: sleep}
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := busy.cpuSeconds()
		if err != nil {
			t.Fatal(err)
		}
		if b >= 0.2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a spinning child used %.2f s of CPU in 20 s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s, err := idle.cpuSeconds(); err != nil || s > 0.1 {
		t.Fatalf("a sleeping child: %.2f s, %v; want about 0", s, err)
	}
}
