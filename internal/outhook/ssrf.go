package outhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// Addresses a webhook may not reach unless OUTCRY_WEBHOOKS_INSECURE=on:
// anything that is not a public unicast address, so that an organizer's
// (or a stolen token's) endpoint cannot make outcry call into its own host
// or network, or a cloud's metadata service (SSRF).
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",          // "this network"
		"100.64.0.0/10",      // carrier-grade NAT
		"192.0.0.0/24",       // IETF protocol assignments
		"192.0.2.0/24",       // documentation
		"198.18.0.0/15",      // benchmarking
		"198.51.100.0/24",    // documentation
		"203.0.113.0/24",     // documentation
		"240.0.0.0/4",        // reserved, and broadcast
		"64:ff9b:1::/48",     // local-use NAT64
		"100::/64",           // discard-only
		"2001:db8::/32",      // documentation
		"fec0::/10",          // site-local (deprecated)
		"169.254.169.254/32", // cloud metadata (also link-local)
		"fd00:ec2::254/128",  // AWS metadata over IPv6 (also unique local)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// nat64 is the well-known NAT64 prefix: its last 32 bits are an IPv4
// address, checked as one.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Allowed reports whether a webhook may be delivered to ip.
func Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		return Allowed(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// ErrRefusedAddress is a webhook address outcry will not call.
var ErrRefusedAddress = errors.New("resolves to a loopback, private, link-local or metadata address, which outcry does not call (OUTCRY_WEBHOOKS_INSECURE=on allows it, for tests and a receiver on this host)")

// Resolver looks up a host's addresses (net.DefaultResolver).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// checkHost refuses a host any of whose addresses is not Allowed.
func checkHost(ctx context.Context, r Resolver, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		if !Allowed(ip) {
			return ErrRefusedAddress
		}
		return nil
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("cannot be resolved: %w", err)
	}
	if len(ips) == 0 {
		return errors.New("cannot be resolved: no address")
	}
	for _, ip := range ips {
		if !Allowed(ip) {
			return ErrRefusedAddress
		}
	}
	return nil
}

// dialControl refuses, at the moment of connecting, an address that is not
// Allowed: the address the name resolved to then, not when the endpoint
// was saved (DNS rebinding), and whatever a proxy or redirect would do.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outhook: dial %s: %w", address, err)
	}
	if !Allowed(ap.Addr()) {
		return fmt.Errorf("outhook: %s %w", ap.Addr(), ErrRefusedAddress)
	}
	return nil
}

var _ = net.Dialer{Control: dialControl}
