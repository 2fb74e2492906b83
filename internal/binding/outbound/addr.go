package outbound

import (
	"net/netip"
)

// refused lists the special-purpose ranges a service may not reach
// unless the operator allows them for the node, with the reason given in
// errors. Loopback, link-local (where cloud metadata services live:
// 169.254.169.254), private and unspecified addresses are checked with
// netip's own predicates; these are the rest of the IANA special-purpose
// registries that are not public unicast.
var refused = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address, where some clouds put their metadata service"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

// Embedded IPv4 in IPv6 translation prefixes: the v4 address inside is
// what would be reached.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64l    = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Refused returns why a service may not connect to a ("" when it may),
// before any operator override.
func Refused(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		switch {
		case nat64.Contains(a), nat64l.Contains(a):
			b := a.As16()
			if why := Refused(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); why != "" {
				return why + " (inside a NAT64 address)"
			}
		case sixToFour.Contains(a):
			b := a.As16()
			if why := Refused(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); why != "" {
				return why + " (inside a 6to4 address)"
			}
		}
	}
	switch {
	case !a.IsValid():
		return "not an address"
	case a.IsLoopback():
		return "a loopback address"
	case a == netip.MustParseAddr("169.254.169.254"):
		return "the cloud metadata address"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "a link-local address"
	case a.IsPrivate():
		return "a private address"
	case a.IsUnspecified():
		return "an unspecified address"
	case a.IsMulticast():
		return "a multicast address"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	}
	for _, r := range refused {
		if r.prefix.Contains(a) {
			return r.why
		}
	}
	return ""
}
