// Package browsertest holds end-to-end tests that drive a real Chromium
// (through github.com/chromedp/chromedp) against the real outcry web server
// on loopback: the supporter's path, the pages without JavaScript, small
// screens, page weight, an accessibility check and screenshots, and the
// organizer console (login, targets, pause and resume, the send log filter,
// no CSP violations).
//
// The tests skip when no Chromium is found, unless OUTCRY_REQUIRE_BROWSER=1
// (set by CI), which turns a missing browser into a failure.
package browsertest
