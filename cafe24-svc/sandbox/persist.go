package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// A real mall remembers the tokens it issued across our restarts, so the
// local stack's sandbox keeps its grants in a state file (Config.StateFile):
// a second `make run` must find the refresh token it stored still alive.
// Authorization codes live one minute and are not kept.

type grantFile struct {
	Access  map[string]persistedGrant `json:"access"`
	Refresh map[string]persistedGrant `json:"refresh"`
}

type persistedGrant struct {
	Mall     string    `json:"mall"`
	ClientID string    `json:"client_id,omitempty"`
	Scopes   []string  `json:"scopes"`
	Expires  time.Time `json:"expires"`
}

// load reads the grants saved at path; a missing file is an empty store.
func (ts *tokenStore) load(path string) error {
	ts.path = path
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading sandbox state: %w", err)
	}
	var f grantFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("reading sandbox state %s: %w", path, err)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for tok, g := range f.Access {
		ts.access[tok] = &accessGrant{mall: g.Mall, scopes: g.Scopes, expires: g.Expires}
	}
	for tok, g := range f.Refresh {
		ts.refresh[tok] = &refreshGrant{mall: g.Mall, clientID: g.ClientID, scopes: g.Scopes, expires: g.Expires}
	}
	return nil
}

// saveLocked writes every grant to the state file, atomically (write, then
// rename). The caller holds ts.mu. Without a state file it does nothing.
func (ts *tokenStore) saveLocked() error {
	if ts.path == "" {
		return nil
	}
	f := grantFile{Access: map[string]persistedGrant{}, Refresh: map[string]persistedGrant{}}
	for tok, g := range ts.access {
		f.Access[tok] = persistedGrant{Mall: g.mall, Scopes: g.scopes, Expires: g.expires}
	}
	for tok, g := range ts.refresh {
		f.Refresh[tok] = persistedGrant{Mall: g.mall, ClientID: g.clientID, Scopes: g.scopes, Expires: g.expires}
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(ts.path), ".sandbox-state-*")
	if err != nil {
		return fmt.Errorf("saving sandbox state: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("saving sandbox state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving sandbox state: %w", err)
	}
	return os.Rename(tmp.Name(), ts.path)
}
