package sandbox

import (
	"embed"
	"html/template"
	"net/http"
	"strings"
)

//go:embed site
var siteFiles embed.FS

var pageTemplate = template.Must(template.ParseFS(siteFiles, "site/index.html"))

// Paths of the single-page site (ably.md "Pages and Excel"). Every one serves
// the same shell; the script renders the page and checks the session.
var sitePages = []string{"/login", "/dashboard", "/sales/order", "/sales/order/prepare", "/sales/order/send", "/sales/cancels", "/goods"}

func (s *Sandbox) siteRoutes() http.Handler {
	mux := http.NewServeMux()
	s.apiRoutes(mux)
	for _, p := range sitePages {
		mux.HandleFunc("GET "+p, s.page)
	}
	mux.HandleFunc("GET /static/{file}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		b, err := siteFiles.ReadFile("site/" + name)
		if err != nil || strings.HasSuffix(name, ".html") {
			http.NotFound(w, r)
			return
		}
		switch {
		case strings.HasSuffix(name, ".js"):
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		case strings.HasSuffix(name, ".css"):
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
		}
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard", http.StatusFound)
	})
	return mux
}

// page serves the shell. A pending modal fault opens a notice over the page;
// a page without a session (the sign-in page) takes it from any seller that
// has one pending, since the site cannot tell who is about to sign in.
func (s *Sandbox) page(w http.ResponseWriter, r *http.Request) {
	sl := s.sellerOf(r)
	if sl != nil {
		s.slow(sl)
	}
	data := struct{ Notice, Layout string }{Notice: "false", Layout: "1"}
	candidates := []*seller{sl}
	if sl == nil {
		candidates = nil
		for _, e := range s.order {
			candidates = append(candidates, s.sellers[e])
		}
	}
	for _, c := range candidates {
		if _, ok := c.takeFault(FaultModal); ok {
			data.Notice = "true"
			break
		}
	}
	if sl != nil && sl.hasFault(FaultLayout) {
		data.Layout = "2"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = pageTemplate.Execute(w, data)
}
