// Package browsertest starts Debian's Chromium for go-rod tests. go-rod must
// never download a browser: our machines cannot reach the download host, and
// tests must run against the browser that production images ship.
package browsertest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
)

// ChromiumPath finds the system Chromium: on PATH, else Debian's path.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err == nil {
		return debian
	}
	t.Fatal("chromium not found on PATH or at /usr/bin/chromium: run scripts/install-deps.sh (installs Debian's chromium package)")
	return ""
}

// Start launches a headless Chromium with a fresh profile and connects go-rod
// to it; both are closed when the test ends. The flags keep Chromium off the
// network it cannot reach here (background updates, sync, component fetches).
func Start(t testing.TB) *rod.Browser {
	t.Helper()
	l := launcher.New().
		Bin(ChromiumPath(t)).
		Headless(true).
		NoSandbox(true).
		Set("disable-gpu").
		Set("no-first-run").
		Set("disable-background-networking").
		Set("disable-component-update").
		Set("disable-sync")
	controlURL, err := l.Launch()
	if err != nil {
		t.Fatalf("launching chromium: %v", err)
	}
	browser := rod.New().ControlURL(controlURL)
	if err := browser.Connect(); err != nil {
		l.Kill()
		t.Fatalf("connecting to chromium: %v", err)
	}
	t.Cleanup(func() {
		_ = browser.Close()
		l.Kill()
		l.Cleanup()
	})
	return browser
}
