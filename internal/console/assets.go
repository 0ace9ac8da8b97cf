package console

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// assets are the embedded CSS and script, with a short content hash each:
// pages link /assets/<name>?v=<hash>, so a browser may cache an asset for
// a year and still fetches the new one after an upgrade.
type assets struct {
	files map[string][]byte
	hash  map[string]string
}

func loadAssets() (*assets, error) {
	as := &assets{files: map[string][]byte{}, hash: map[string]string{}}
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assetFiles, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		as.files[name], as.hash[name] = b, hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: load assets: %w", err)
	}
	return as, nil
}

// url returns the versioned path of an asset, for templates.
func (as *assets) url(name string) (string, error) {
	h, ok := as.hash[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return "/assets/" + name + "?v=" + h, nil
}

// asset serves an embedded file. A request naming the current version may
// be cached for good; any other only briefly, so that a page of the
// previous version does not pin a stale copy.
func (c *Console) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, ok := c.assets.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	switch {
	case strings.HasSuffix(name, ".css"):
		h.Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		h.Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		h.Set("Content-Type", "image/svg+xml")
	}
	if r.URL.Query().Get("v") == c.assets.hash[name] {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	h.Set("ETag", `"`+c.assets.hash[name]+`"`)
	if r.Header.Get("If-None-Match") == `"`+c.assets.hash[name]+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(b)
}
