package reply

import "strings"

// Automatic reports whether in is an automatic answer (an out-of-office, a
// "we received your message"), not a reply a person wrote, and why. Such
// mail is recorded as an acknowledgement, never forwarded, and never
// answered (RFC 3834: an automatic answer must not be answered, or two
// robots write to each other forever).
//
// It is automatic when any of these says so:
//   - Auto-Submitted is present and not "no" (RFC 3834: auto-replied,
//     auto-generated, auto-notified);
//   - X-Autoreply, X-Autorespond or X-Autoresponder is present (older
//     responders, vacation(1) and many help desks);
//   - Precedence is auto_reply, bulk, list or junk;
//   - the return path is null (MAIL FROM:<>, Return-Path: <>): bounces
//     and many responders;
//   - X-Auto-Response-Suppress is not the sign (Exchange puts it on every
//     message), but Exchange's own out-of-office subject is: "Automatic
//     reply:", as are "Out of Office:", "Autoreply:" and "Auto-Reply:".
func Automatic(in Inbound) (bool, string) {
	h := in.Header
	if v := strings.TrimSpace(h.Get("Auto-Submitted")); v != "" {
		kw, _, _ := strings.Cut(v, ";")
		if !strings.EqualFold(strings.TrimSpace(kw), "no") {
			return true, "Auto-Submitted: " + v
		}
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder"} {
		if _, ok := h[k]; ok {
			return true, k
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "auto_reply", "bulk", "list", "junk":
		return true, "Precedence: " + h.Get("Precedence")
	}
	if in.NullSender {
		return true, "null return path"
	}
	s := strings.ToLower(in.Subject)
	for _, p := range []string{"automatic reply:", "out of office:", "autoreply:", "auto-reply:", "auto reply:"} {
		if strings.HasPrefix(s, p) {
			return true, "subject " + p
		}
	}
	return false, ""
}
