// Package browser holds the collector's one Chromium: launched from the
// system binary (never downloaded) or reached at a remote DevTools URL (a
// separate container in Kubernetes), shared by every account through
// isolated incognito contexts, at most Size at a time, and started again
// when it dies.
package browser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"
)

// Config chooses the browser.
type Config struct {
	// Bin is the Chromium binary; empty finds "chromium" (then
	// "chromium-browser") on PATH, else Debian's /usr/bin/chromium.
	Bin string
	// RemoteURL, when set, is a running Chromium's DevTools address
	// (ws://host:9222/devtools/browser/…, http://host:9222 or host:9222);
	// nothing is launched then.
	RemoteURL string
	// Size is how many accounts may hold a context at once (default 2).
	Size int
	// Proxy is an egress HTTP proxy every context goes through, e.g.
	// "http://proxy.internal:3128"; empty goes direct.
	Proxy string
	// Headless is false only to let a person watch (or do a first sign-in).
	Headful bool
	Logger  *slog.Logger
}

// Pool is the process's browser and its bounded set of contexts.
type Pool struct {
	cfg   Config
	log   *slog.Logger
	slots chan struct{}

	mu       sync.Mutex
	browser  *rod.Browser
	launcher *launcher.Launcher
	starts   int
	closed   bool
}

// FindChromium returns the system Chromium's path.
func FindChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	const debian = "/usr/bin/chromium"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	}
	return "", errors.New("chromium not found on PATH or at /usr/bin/chromium: install Debian's chromium package, set --chromium-path, or give --browser-url")
}

// New checks cfg; the browser starts on first use.
func New(cfg Config) (*Pool, error) {
	if cfg.Size == 0 {
		cfg.Size = 2
	}
	if cfg.Size < 1 || cfg.Size > 64 {
		return nil, fmt.Errorf("browser: pool size %d must be from 1 to 64", cfg.Size)
	}
	if cfg.RemoteURL == "" && cfg.Bin == "" {
		bin, err := FindChromium()
		if err != nil {
			return nil, err
		}
		cfg.Bin = bin
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pool{cfg: cfg, log: cfg.Logger, slots: make(chan struct{}, cfg.Size)}, nil
}

// Context is one account's isolated incognito browser context.
type Context struct {
	*rod.Browser
	pool *Pool
	once sync.Once
}

// Acquire waits for a free slot and returns a fresh incognito context.
func (p *Pool) Acquire(ctx context.Context) (*Context, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a browser slot: %w", ctx.Err())
	}
	b, err := p.live(ctx)
	if err == nil {
		var c *rod.Browser
		c, err = p.incognito(b)
		if err == nil {
			return &Context{Browser: c, pool: p}, nil
		}
		// A browser that cannot open a context is treated as dead.
		p.log.Warn("browser could not open a context; restarting it", "err", err.Error())
		p.forget(b)
		if b, err = p.live(ctx); err == nil {
			if c, err = p.incognito(b); err == nil {
				return &Context{Browser: c, pool: p}, nil
			}
		}
	}
	<-p.slots
	return nil, err
}

func (p *Pool) incognito(b *rod.Browser) (*rod.Browser, error) {
	res, err := proto.TargetCreateBrowserContext{ProxyServer: p.cfg.Proxy, DisposeOnDetach: true}.Call(b)
	if err != nil {
		return nil, fmt.Errorf("opening an incognito context: %w", err)
	}
	c := *b
	c.BrowserContextID = res.BrowserContextID
	return &c, nil
}

// Release closes the context (its pages and cookies) and frees the slot.
func (c *Context) Release() {
	c.once.Do(func() {
		if err := (proto.TargetDisposeBrowserContext{BrowserContextID: c.BrowserContextID}).Call(c.Browser); err != nil {
			c.pool.log.Debug("disposing a browser context", "err", err.Error())
		}
		<-c.pool.slots
	})
}

// live returns a browser that answers, starting or reconnecting one when
// there is none or the last one died.
func (p *Pool) live(ctx context.Context) (*rod.Browser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("browser pool closed")
	}
	if p.browser != nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := proto.BrowserGetVersion{}.Call(p.browser.Context(pctx))
		cancel()
		if err == nil {
			return p.browser, nil
		}
		p.log.Warn("browser stopped answering; starting it again", "err", err.Error(), "starts", p.starts)
		p.stopLocked()
	}
	return p.startLocked(ctx)
}

func (p *Pool) startLocked(ctx context.Context) (*rod.Browser, error) {
	var controlURL string
	var l *launcher.Launcher
	var err error
	if p.cfg.RemoteURL != "" {
		controlURL, err = launcher.ResolveURL(p.cfg.RemoteURL)
		if err != nil {
			return nil, fmt.Errorf("reaching the remote browser at %s: %w", p.cfg.RemoteURL, err)
		}
	} else {
		l = launcher.New().Context(ctx).
			Bin(p.cfg.Bin). // never a downloaded browser
			Headless(!p.cfg.Headful).
			NoSandbox(os.Geteuid() == 0). // root in a container cannot use the sandbox
			Set("disable-gpu").
			Set("disable-dev-shm-usage").
			Set("no-first-run").
			Set("disable-background-networking").
			Set("disable-component-update").
			Set("disable-sync").
			Set("disable-extensions").
			Set("mute-audio").
			Set("lang", "ko-KR").
			// Memory: 8 accounts at once should keep the collector and its
			// browser near 600 MB (make bench BENCH=ably). Each incognito
			// context is a window of its own; without these, every window
			// also preloads its omnibox popup and a spare renderer, a third
			// renderer process per account. The network service and GPU
			// compositing live in the browser process, and the JS heap
			// stays small (the site's pages are small; large answers are
			// garbage at once).
			Set("disable-features", "SpareRendererForSitePerProcess,PreloadTopChromeWebUI,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,Prerender2,Translate,OptimizationHints,MediaRouter,BackForwardCache").
			Set("enable-features", "NetworkServiceInProcess2,NetworkServiceInProcess").
			Set("in-process-gpu").
			Set("disable-gpu-compositing").
			Set("disable-software-rasterizer").
			Set("num-raster-threads", "1").
			// Every account's window but one is in the background, where
			// Chromium would otherwise slow its timers and renderer.
			Set("disable-renderer-backgrounding").
			Set("window-size", "1024,768").
			Set("force-device-scale-factor", "1").
			Set("disk-cache-size", "1048576").
			Set("js-flags", "--max-old-space-size=32 --max-semi-space-size=1")
		controlURL, err = l.Launch()
		if err != nil {
			return nil, fmt.Errorf("launching chromium %s: %w", p.cfg.Bin, err)
		}
	}
	// No device emulation: pages keep the window's size, and no extra
	// compositor surfaces are allocated per page.
	b := rod.New().ControlURL(controlURL).NoDefaultDevice()
	if err := b.Connect(); err != nil {
		if l != nil {
			l.Kill()
		}
		return nil, fmt.Errorf("connecting to chromium: %w", err)
	}
	p.browser, p.launcher = b, l
	p.starts++
	p.log.Info("browser ready", "remote", p.cfg.RemoteURL != "", "starts", p.starts)
	return b, nil
}

func (p *Pool) forget(b *rod.Browser) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.browser == b {
		p.stopLocked()
	}
}

func (p *Pool) stopLocked() {
	if p.launcher != nil {
		// A remote browser belongs to its container and is never closed
		// from here; a launched one is ours.
		if p.browser != nil {
			_ = p.browser.Close()
		}
		p.launcher.Kill()
		p.launcher.Cleanup()
	}
	p.browser, p.launcher = nil, nil
}

// Starts is how many times a browser was started or connected.
func (p *Pool) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// PID is the launched browser's process id; 0 for a remote browser or none.
func (p *Pool) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.launcher == nil {
		return 0
	}
	return p.launcher.PID()
}

// Close stops the browser (a remote one is only disconnected).
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.stopLocked()
}
