// Package docstest holds the tests that keep the documentation in step with
// the code: every environment variable the code reads has a row in
// docs/configuration.md (and every row names one), and every internal link
// in README.md and docs/*.md points at a file and heading that exist.
package docstest
