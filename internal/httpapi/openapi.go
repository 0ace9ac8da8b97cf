package httpapi

import (
	"net/http"
	"sync"

	"github.com/volleyhq/volley/internal/httpapi/openapi"
)

// openapiDoc is the OpenAPI document as served, encoded once: expanding it
// takes a few milliseconds, too much for every API a test builds.
type openapiDoc struct {
	once sync.Once
	json []byte
	err  error
}

// getOpenAPI serves GET /api/openapi.json: the OpenAPI 3.1 document of the
// API, public like the API reference it is rendered into.
func (a *API) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	a.openapi.once.Do(func() { a.openapi.json, a.openapi.err = openapi.JSON() })
	if a.openapi.err != nil {
		return a.openapi.err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(a.openapi.json)
	return err
}
