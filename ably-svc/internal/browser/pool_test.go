package browser_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"
	"hlog.dev/ably-svc/internal/browser"
	"hlog.dev/proto/kit/browsertest"
)

func TestPoolIsBoundedAndContextsAreIsolated(t *testing.T) {
	p, err := browser.New(browser.Config{Bin: browsertest.ChromiumPath(t), Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	ctx := context.Background()
	a, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	full, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Acquire(full); !errors.Is(err, context.Canceled) {
		t.Fatalf("second acquire with the only slot taken: %v, want to wait until cancelled", err)
	}
	page, err := a.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	if err := page.SetCookies([]*proto.NetworkCookieParam{{Name: "k", Value: "v", URL: "http://example.test/"}}); err != nil {
		t.Fatal(err)
	}
	a.Release()
	b, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if b.BrowserContextID == a.BrowserContextID {
		t.Fatal("a new account got the old context")
	}
	cookies, err := proto.StorageGetCookies{BrowserContextID: b.BrowserContextID}.Call(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(cookies.Cookies) != 0 {
		t.Fatalf("the next context sees cookies %v", cookies.Cookies)
	}
	if p.Starts() != 1 {
		t.Fatalf("browser started %d times", p.Starts())
	}
}

func TestRemoteBrowserIsUsedAndLeftRunning(t *testing.T) {
	l := launcher.New().Bin(browsertest.ChromiumPath(t)).Headless(true).NoSandbox(true).Set("disable-gpu")
	ws, err := l.Launch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Kill(); l.Cleanup() })
	u, err := url.Parse(ws)
	if err != nil {
		t.Fatal(err)
	}
	// The form a Kubernetes sidecar is addressed by: http://host:port.
	p, err := browser.New(browser.Config{RemoteURL: "http://" + u.Host, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := page.Eval(`() => 1 + 1`); err != nil {
		t.Fatal(err)
	}
	c.Release()
	p.Close()
	if p.PID() != 0 {
		t.Error("a remote browser has a local pid")
	}
	other := rod.New().ControlURL(ws)
	if err := other.Connect(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Version(); err != nil {
		t.Fatalf("the remote browser was closed by the pool: %v", err)
	}
}
