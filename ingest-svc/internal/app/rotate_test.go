package app

import (
	"bytes"
	"context"
	"testing"

	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit/mysqltest"

	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/vault"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

func TestRotateCredentialsReencryptsEverythingUnderTheNewKey(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, mysqltest.Start(t).DSN, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	oldRing, _ := vault.NewKeyring("k-old", map[string][]byte{"k-old": oldKey})
	bothRing, _ := vault.NewKeyring("k-new", map[string][]byte{"k-new": newKey, "k-old": oldKey})
	newRing, _ := vault.NewKeyring("k-new", map[string][]byte{"k-new": newKey})

	want := map[uint64]string{}
	for i, mall := range []string{"a", "b", "c"} {
		seller := uint64(1 + i%2)
		creds := &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{MallId: mall, RefreshToken: "r-" + mall}}}
		a, _, err := st.AddAccount(ctx, store.NewAccount{
			SellerID: seller, Platform: commercev1.Platform_PLATFORM_CAFE24, ExternalAccountID: mall, DisplayName: mall, DefaultTimeZone: "Asia/Seoul",
			SealCredentials: func(id uint64) (store.Sealed, error) { return credentials.NewBox(oldRing).Seal(seller, id, creds) },
		})
		if err != nil {
			t.Fatal(err)
		}
		want[a.AccountID] = "r-" + mall
	}

	// Without the old key the envelopes cannot be opened: refused, nothing changed.
	if _, err := RotateCredentials(ctx, st, newRing); err == nil {
		t.Fatal("rotation without the old key succeeded")
	}
	n, err := RotateCredentials(ctx, st, bothRing)
	if err != nil || n != 3 {
		t.Fatalf("rotated %d, %v; want 3", n, err)
	}
	if n, err := RotateCredentials(ctx, st, bothRing); err != nil || n != 0 {
		t.Fatalf("second rotation rotated %d, %v; want 0", n, err)
	}
	// Everything opens with the new key alone, and says the same.
	box := credentials.NewBox(newRing)
	for _, seller := range []uint64{1, 2} {
		accts, err := st.ListAccounts(ctx, seller)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accts {
			rc, err := st.LoadRunContext(ctx, seller, a.AccountID)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Sealed.KeyID != "k-new" {
				t.Errorf("account %d still under %q", a.AccountID, rc.Sealed.KeyID)
			}
			c, err := box.Open(seller, a.AccountID, rc.Sealed)
			if err != nil || c.GetCafe24().GetRefreshToken() != want[a.AccountID] {
				t.Errorf("account %d after rotation: %v, %v", a.AccountID, c, err)
			}
		}
	}
}
