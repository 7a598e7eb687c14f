package outhook

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outcry/outcry/internal/hookevent"
	"github.com/outcry/outcry/internal/pgtest"
	"github.com/outcry/outcry/internal/store"
)

func TestAllowed(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "127.8.9.10", "::1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "169.254.1.1",
		"fe80::1", "fc00::1", "fd00:ec2::254", "0.0.0.0", "::", "100.64.0.1", "::ffff:127.0.0.1", "::ffff:10.1.1.1", "64:ff9b::a00:1",
		"224.0.0.1", "255.255.255.255", "198.18.0.1"} {
		if Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed", s)
		}
	}
	for _, s := range []string{"93.184.215.14", "8.8.8.8", "2606:4700::6810:84e5", "64:ff9b::808:808"} {
		if !Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
}

// fakeDNS answers every name with the addresses it holds (an attacker's
// name that resolves to an inside address).
type fakeDNS map[string][]netip.Addr

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return f[host], nil
}

// Creating an endpoint refuses, with 422's field "url", addresses outcry
// must not call, unless OUTCRY_WEBHOOKS_INSECURE=on.
func TestCreateRefusesInsideAddresses(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	dns := fakeDNS{
		"crm.example.org":     {netip.MustParseAddr("93.184.215.14")},
		"rebind.example.org":  {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.7")},
		"metadata.example.io": {netip.MustParseAddr("169.254.169.254")},
		"localhost":           {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	}
	svc := &Service{Store: st, Resolver: dns}
	events := []string{"letter.created"}
	for _, u := range []string{"https://127.0.0.1/hook", "https://localhost/hook", "https://10.1.2.3/", "https://[::1]:8443/", "https://169.254.169.254/latest/meta-data",
		"https://[fd00:ec2::254]/", "https://rebind.example.org/", "https://metadata.example.io/", "https://192.168.0.10/", "https://[::ffff:127.0.0.1]/",
		"http://crm.example.org/", "ftp://crm.example.org/", "crm.example.org", "", "https:///nohost"} {
		_, err := svc.Create(context.Background(), Input{URL: &u, Events: &events})
		fe, ok := err.(FieldErrors)
		if !ok || fe["url"] == "" {
			t.Errorf("%q: %v, want a refusal naming url", u, err)
		}
	}
	u := "https://crm.example.org/hook"
	if _, err := svc.Create(context.Background(), Input{URL: &u, Events: &events}); err != nil {
		t.Fatalf("a public address refused: %v", err)
	}
	// Insecure: plain http and loopback are allowed.
	svc.Insecure = true
	for _, u := range []string{"http://127.0.0.1:8080/hook", "https://10.1.2.3/"} {
		if _, err := svc.Create(context.Background(), Input{URL: &u, Events: &events}); err != nil {
			t.Errorf("insecure: %q refused: %v", u, err)
		}
	}
	for name, in := range map[string]Input{
		"events":   {URL: &u, Events: &[]string{"letter.created", "nope.happened"}},
		"campaign": {URL: &u, Events: &events, Campaign: ptr("nowhere")},
	} {
		_, err := svc.Create(context.Background(), in)
		if fe, ok := err.(FieldErrors); !ok || fe[name] == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := svc.Create(context.Background(), Input{URL: &u, Events: &[]string{}}); !strings.Contains(err.Error(), "events") {
		t.Errorf("no events: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// At delivery the address dialed is checked again (DNS rebinding: the name
// resolved elsewhere when the endpoint was saved): a delivery to loopback
// is refused, and the receiver gets nothing.
func TestDeliveryRefusesInsideAddresses(t *testing.T) {
	st := testStore(t, pgtest.DB(t, filepath.Join(t.TempDir(), "o.db")))
	rcv := newReceiver(t, nil)
	// Saved as if it had resolved to a public address then.
	e, err := st.CreateWebhookEndpoint(context.Background(), store.WebhookEndpoint{URL: rcv.URL, Events: []hookevent.Type{hookevent.LetterCreated}, Secret: NewSecret()})
	if err != nil {
		t.Fatal(err)
	}
	writeLetter(t, st, "ada@example.org")
	stop := run(t, st, Options{Schedule: fast[:2]})
	waitStatus(t, st, e.ID, store.HookFailed)
	stop()
	if n := len(rcv.all()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
	ds := deliveries(t, st, e.ID)
	if ds[0].Attempts != 2 || ds[0].LastCode != 0 || !strings.Contains(ds[0].LastError, "refused") {
		t.Fatalf("delivery %+v", ds[0])
	}
}
