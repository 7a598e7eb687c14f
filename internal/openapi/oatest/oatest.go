// Package oatest checks, in tests, every answer of /api/v1 and /admin/api
// against the OpenAPI document (internal/openapi) with kin-openapi's
// openapi3filter: an HTTP client whose transport is Transport fails the
// test that meets an undocumented route, status, field or content type.
package oatest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/outcry/outcry/internal/openapi"
)

var (
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
)

// Doc is the document, loaded and validated once.
func Doc() (*openapi3.T, routers.Router, error) {
	once.Do(func() {
		loader := openapi3.NewLoader()
		if doc, err = loader.LoadFromData(openapi.YAML()); err != nil {
			err = fmt.Errorf("oatest: load openapi.yaml: %w", err)
			return
		}
		if err = doc.Validate(context.Background()); err != nil {
			err = fmt.Errorf("oatest: openapi.yaml is not valid: %w", err)
			return
		}
		router, err = gorillamux.NewRouter(doc)
	})
	return doc, router, err
}

// Documented reports whether a request's path falls under the APIs the
// document describes.
func Documented(path string) bool {
	return strings.HasPrefix(path, "/api/v1/") || path == "/api/v1" || strings.HasPrefix(path, "/admin/api/") || path == "/admin/api"
}

// Transport wraps base (nil: http.DefaultTransport) so that every answer
// to a request under /api/v1 or /admin/api is checked against the
// document; a mismatch fails t.
func Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{t: t, base: base}
}

// Client is an http.Client with Transport that does not follow redirects.
func Client(t testing.TB) *http.Client {
	return &http.Client{Transport: Transport(t, nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type transport struct {
	t    testing.TB
	base http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !Documented(req.URL.Path) {
		return tr.base.RoundTrip(req)
	}
	resp, rerr := tr.base.RoundTrip(req)
	if rerr != nil {
		return resp, rerr
	}
	body, berr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if berr != nil {
		return resp, nil
	}
	if problem := Check(req, resp.StatusCode, resp.Header, body); problem != "" {
		tr.t.Errorf("OpenAPI: %s %s answered %d: %s\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, problem, body)
	}
	return resp, nil
}

// Check returns what in an answer does not match the document ("" when it
// matches, or when the request is not under the documented APIs).
func Check(req *http.Request, status int, header http.Header, body []byte) string {
	if !Documented(req.URL.Path) {
		return ""
	}
	// A CORS preflight (OPTIONS) is the browser's, not an operation of
	// the API; HEAD is GET without the body (the server answers every GET
	// route to HEAD). Neither is in the document, as OpenAPI's habit is.
	if req.Method == http.MethodOptions || req.Method == http.MethodHead {
		return ""
	}
	_, r, err := Doc()
	if err != nil {
		return err.Error()
	}
	// The router matches on the path and method only.
	u := *req.URL
	u.Scheme, u.Host = "", ""
	rq := req.Clone(context.Background())
	rq.URL = &u
	rq.Host = ""
	route, params, err := r.FindRoute(rq)
	if err != nil {
		return "the route is not in the document: " + err.Error()
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: rq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err.Error()
	}
	return ""
}
