package web

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDistIsBuiltFromSources fails when src/ changed but scripts/build-web.sh
// was not run: the gateway embeds dist/, not src/.
func TestDistIsBuiltFromSources(t *testing.T) {
	dist := Dist()
	for _, name := range []string{"index.html", "style.css", "i18n.js", "core.js", "auth.js", "accounts.js", "app.js"} {
		src, err := os.ReadFile("src/" + name)
		if err != nil {
			t.Fatal(err)
		}
		built, err := fs.ReadFile(dist, name)
		if err != nil {
			t.Fatalf("dist lacks %s: run scripts/build-web.sh", name)
		}
		if !bytes.Equal(src, built) {
			t.Errorf("dist/%s differs from src/%s: run scripts/build-web.sh", name, name)
		}
	}
}

// TestDistChartJSIsThePinnedVersion checks the Chart.js in dist against the
// version package-lock.json pins.
func TestDistChartJSIsThePinnedVersion(t *testing.T) {
	raw, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatalf("package-lock.json: %v", err)
	}
	pinned := lock.Packages["node_modules/chart.js"].Version
	if !strings.HasPrefix(pinned, "4.") {
		t.Fatalf("package-lock.json pins chart.js %q, want a 4.x version", pinned)
	}
	chart, err := fs.ReadFile(Dist(), "chart.umd.min.js")
	if err != nil {
		t.Fatalf("dist lacks chart.umd.min.js: run scripts/build-web.sh")
	}
	banner := "Chart.js v" + pinned + "\n"
	if !bytes.Contains(chart[:min(len(chart), 200)], []byte(banner)) {
		t.Errorf("dist/chart.umd.min.js is not Chart.js %s: run scripts/build-web.sh", pinned)
	}
}

// TestDistLoadsNothingFromElsewhere: every asset comes from the gateway (no
// CDN, no web fonts).
func TestDistLoadsNothingFromElsewhere(t *testing.T) {
	dist := Dist()
	index, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?i)(?:src|href)\s*=\s*"([^"]*)"`).FindAllSubmatch(index, -1)
	if len(refs) == 0 {
		t.Fatal("index.html references no assets")
	}
	for _, ref := range refs {
		target := string(ref[1])
		if strings.Contains(target, "//") || strings.HasPrefix(target, "/") && target != "/" {
			t.Errorf("index.html loads %q, want a relative path served by the gateway", target)
			continue
		}
		if strings.HasPrefix(target, "data:") {
			continue
		}
		if _, err := fs.Stat(dist, target); err != nil {
			t.Errorf("index.html loads %q, which dist lacks", target)
		}
	}
	for _, name := range []string{"app.js", "style.css"} {
		body, err := fs.ReadFile(dist, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, remote := range []string{"http://", "https://", "@import"} {
			if bytes.Contains(body, []byte(remote)) {
				t.Errorf("%s contains %q", name, remote)
			}
		}
	}
}
