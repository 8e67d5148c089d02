package collector

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"hlog.dev/cafe24-svc/internal/cafe24api"
)

// refreshGuard makes this process spend each refresh token once. Cafe24
// rotates refresh tokens (cafe24.md §1, §8 "refresh-token races"): if a
// check and a run, or two runs, of one mall refreshed the same token at once,
// the loser would get invalid_grant and wrongly tell the seller to
// reconnect. So concurrent refreshes of one token share one call, and a
// token spent in the last few minutes answers with the pair it bought. The
// pairs stay in memory only, keyed by a hash of the spent token.
type refreshGuard struct {
	mu       sync.Mutex
	inflight map[[32]byte]*refreshCall
	spent    map[[32]byte]spentToken
	keep     time.Duration
	now      func() time.Time
}

type refreshCall struct {
	done chan struct{}
	tok  *cafe24api.Token
	err  error
}

type spentToken struct {
	tok *cafe24api.Token
	at  time.Time
}

func newRefreshGuard(now func() time.Time) *refreshGuard {
	return &refreshGuard{inflight: map[[32]byte]*refreshCall{}, spent: map[[32]byte]spentToken{}, keep: 10 * time.Minute, now: now}
}

// refresh runs spend for refreshToken of app (mall and client) unless another caller is
// spending it or has just spent it, and then returns that caller's result.
func (g *refreshGuard) refresh(ctx context.Context, app, refreshToken string, spend func() (*cafe24api.Token, error)) (*cafe24api.Token, error) {
	key := sha256.Sum256([]byte(app + "\x00" + refreshToken))
	g.mu.Lock()
	now := g.now()
	for k, s := range g.spent {
		if now.Sub(s.at) > g.keep {
			delete(g.spent, k)
		}
	}
	if s, ok := g.spent[key]; ok {
		g.mu.Unlock()
		return s.tok, nil
	}
	if c, ok := g.inflight[key]; ok {
		g.mu.Unlock()
		select {
		case <-c.done:
			return c.tok, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &refreshCall{done: make(chan struct{})}
	g.inflight[key] = c
	g.mu.Unlock()

	c.tok, c.err = spend()
	g.mu.Lock()
	delete(g.inflight, key)
	if c.err == nil {
		g.spent[key] = spentToken{tok: c.tok, at: g.now()}
	}
	g.mu.Unlock()
	close(c.done)
	return c.tok, c.err
}
