// Package openapi holds the OpenAPI 3.1 document of outcry's JSON APIs,
// /api/v1 and /admin/api (openapi.yaml, kept beside this file and served
// at /api/openapi.json). Package oatest checks answers against it in the
// tests; TestRoutesDocumented (internal/app) keeps it and the server's
// routes in step.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var document []byte

// YAML is the document as written.
func YAML() []byte { return document }

var (
	once    sync.Once
	jsonDoc []byte
	jsonErr error
)

// JSON is the document as JSON (/api/openapi.json).
func JSON() ([]byte, error) {
	once.Do(func() {
		var v any
		if jsonErr = yaml.Unmarshal(document, &v); jsonErr != nil {
			jsonErr = fmt.Errorf("openapi: %w", jsonErr)
			return
		}
		jsonDoc, jsonErr = json.MarshalIndent(v, "", "  ")
	})
	return jsonDoc, jsonErr
}
