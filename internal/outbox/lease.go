package outbox

import (
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// leaseOwner names a process's sender lease: its machine (or the name
// OUTCRY_INSTANCE gives it), its process id and a random part. The machine
// and id let a restarted outcry see that the sender it finds named was its
// own crashed predecessor.
func leaseOwner(machine string) string {
	return fmt.Sprintf("%s/%d/%s", machine, os.Getpid(), rand.Text())
}

func hostName() string {
	host, _ := os.Hostname()
	return host
}

// goneHere reports whether owner named a process of machine that no
// longer exists. Anything else — another machine, a live process, a name
// from before owners carried their machine — is taken to be alive.
func goneHere(owner, machine string) bool {
	host, rest, ok := strings.Cut(owner, "/")
	if !ok || host != machine {
		return false
	}
	pidText, _, ok := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return !processExists(pid)
}
