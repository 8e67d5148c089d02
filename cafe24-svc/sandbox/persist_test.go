package sandbox

import (
	"path/filepath"
	"testing"
	"time"
)

// A restarted sandbox with the same state file still honours the tokens it
// issued before, and still refuses a refresh token that was spent.
func TestTokensSurviveARestartWithAStateFile(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	first := newTokenStore()
	if err := first.load(state); err != nil {
		t.Fatal(err)
	}
	spent := first.issue("demo", "app", []string{"mall.read_order"}, now, 2*time.Hour, 14*24*time.Hour)
	kept := first.issue("demo", "app", []string{"mall.read_order"}, now, 2*time.Hour, 14*24*time.Hour)
	if _, msg := first.redeemRefresh(spent.RefreshToken, "demo", "app", now); msg != "" {
		t.Fatal(msg)
	}

	second := newTokenStore()
	if err := second.load(state); err != nil {
		t.Fatal(err)
	}
	if _, err := second.accessFor(kept.AccessToken, "demo", now.Add(time.Hour)); err != nil {
		t.Fatalf("access token lost in the restart: %v", err)
	}
	if _, msg := second.redeemRefresh(kept.RefreshToken, "demo", "app", now.Add(time.Hour)); msg != "" {
		t.Fatalf("refresh token lost in the restart: %s", msg)
	}
	if _, msg := second.redeemRefresh(spent.RefreshToken, "demo", "app", now.Add(time.Hour)); msg == "" {
		t.Fatal("a spent refresh token came back to life after the restart")
	}
	if _, err := newTokenStore().accessFor(kept.AccessToken, "demo", now); err == nil {
		t.Fatal("a store without the state file knows the token: the test proves nothing")
	}
}
