package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// contentTypes is fixed here rather than taken from the mime package, whose
// answers depend on the host's /etc/mime.types.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".map":  "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// dashboardCSP allows the page nothing but its own origin: every script,
// style and request is served by this gateway (no CDN, no web fonts). The
// one exception is where a form may lead: the Cafe24 connect form goes
// through the gateway to the mall's consent page, and browsers hold
// redirects after a form post to form-action too.
func dashboardCSP(formTargets ...string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action " +
		strings.TrimSpace("'self' "+strings.Join(formTargets, " ")) + "; frame-ancestors 'none'"
}

// consentOrigin is the CSP source of Cafe24's consent pages: the origin of
// the authorize URL, with the mall id as a wildcard host label.
func consentOrigin(authorizeURL string) string {
	u, err := url.Parse(strings.ReplaceAll(authorizeURL, "{mall_id}", "mallid"))
	if err != nil || u.Host == "" {
		return ""
	}
	host := u.Host
	if strings.Contains(authorizeURL, "{mall_id}.") {
		host = strings.Replace(host, "mallid.", "*.", 1)
	}
	return u.Scheme + "://" + host
}

// staticFile is one file held in memory with its validator.
type staticFile struct {
	name        string
	body        []byte
	contentType string
	etag        string
	csp         string
}

func newStaticFile(name string, body []byte) staticFile {
	sum := sha256.Sum256(body)
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	return staticFile{name: name, body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// serve writes the file. Asset names carry no content hash, so caches must
// revalidate every time ("no-cache"); the ETag turns that into a cheap 304.
func (f staticFile) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(f.contentType, "text/html") {
		csp := f.csp
		if csp == "" {
			csp = dashboardCSP()
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "same-origin")
	}
	// ServeContent answers If-None-Match, Range and HEAD. A zero modtime
	// leaves Last-Modified out: the ETag is the only validator.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// webFiles serves the built dashboard (hlog.dev/web), index.html at "/".
type webFiles struct {
	files map[string]staticFile
}

// newWebFiles reads every file of fsys into memory: the dashboard is a few
// hundred kilobytes, and a file that is missing should fail the start, not a
// request.
func newWebFiles(fsys fs.FS, csp string) (*webFiles, error) {
	wf := &webFiles{files: map[string]staticFile{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		f := newStaticFile(name, body)
		f.csp = csp
		wf.files["/"+name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading dashboard files: %w", err)
	}
	index, ok := wf.files["/index.html"]
	if !ok {
		return nil, errors.New("reading dashboard files: index.html is missing (run scripts/build-web.sh)")
	}
	wf.files["/"] = index
	return wf, nil
}

func (wf *webFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := wf.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.serve(w, r)
}
