package store

import (
	"context"
	"errors"
	"testing"
	"time"

	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"
	"hlog.dev/proto/kit/mysqltest"
)

func TestMain(m *testing.M) { mysqltest.Main(m) }

var fixedNow = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

func openStore(t *testing.T) (*Store, *mysqltest.Database) {
	t.Helper()
	db := mysqltest.Start(t)
	st, err := Open(context.Background(), db.DSN, Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, db
}

func TestMigrationsApplyOnceAndAgainIdempotently(t *testing.T) {
	st, db := openStore(t)
	tables := func() map[string]bool {
		rows, err := st.DB().Query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[n] = true
		}
		return out
	}
	before := tables()
	for _, want := range []string{"schema_migrations", "sellers", "platform_accounts", "sync_runs", "sync_run_streams",
		"stream_cursors", "orders", "order_lines", "order_line_claims", "products", "product_categories",
		"product_options", "categories", "coupons"} {
		if !before[want] {
			t.Errorf("table %s missing after migration", want)
		}
	}
	var applied int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	migrations, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(migrations) {
		t.Fatalf("schema_migrations has %d rows, want %d", applied, len(migrations))
	}

	// A second start (another replica, a restart) finds nothing to do.
	again, err := Open(context.Background(), db.DSN, Options{})
	if err != nil {
		t.Fatalf("migrating an up-to-date database: %v", err)
	}
	again.Close()
	var appliedAgain int
	if err := st.DB().QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&appliedAgain); err != nil {
		t.Fatal(err)
	}
	if appliedAgain != applied || len(tables()) != len(before) {
		t.Fatalf("second migration changed the schema: %d -> %d migrations", applied, appliedAgain)
	}
}

func TestChangedMigrationIsRefused(t *testing.T) {
	st, db := openStore(t)
	if _, err := st.DB().Exec("UPDATE schema_migrations SET checksum = REPEAT('0', 64) WHERE version = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), db.DSN, Options{}); err == nil {
		t.Fatal("Open accepted a database whose applied migration differs from the embedded file")
	}
}

func addAccount(t *testing.T, st *Store, seller uint64, external string) (Account, Run) {
	t.Helper()
	a, r, err := st.AddAccount(context.Background(), NewAccount{
		SellerID: seller, Platform: commercev1.Platform_PLATFORM_CAFE24, ExternalAccountID: external,
		DisplayName: external, DefaultTimeZone: "Asia/Seoul",
		SealCredentials: func(uint64) (Sealed, error) { return Sealed{Ciphertext: []byte("sealed"), KeyID: "k1"}, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, r
}

func TestOneActiveRunPerAccount(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	a, backfill := addAccount(t, st, 7, "mall")
	if backfill.State != RunQueued || backfill.Trigger != TriggerBackfill {
		t.Fatalf("first run = %+v, want a queued backfill", backfill)
	}
	again, created, err := st.EnqueueRun(ctx, 7, a.AccountID, TriggerManual, nil)
	if err != nil {
		t.Fatal(err)
	}
	if created || again.RunID != backfill.RunID {
		t.Fatalf("enqueue while a run is queued made run %d (created %v), want the queued %d", again.RunID, created, backfill.RunID)
	}

	claimed, found, err := st.ClaimRun(ctx, "me", time.Minute)
	if err != nil || !found || claimed.RunID != backfill.RunID || claimed.State != RunRunning {
		t.Fatalf("claim = %+v, %v, %v", claimed, found, err)
	}
	if _, found, _ := st.ClaimRun(ctx, "other", time.Minute); found {
		t.Fatal("a running run with a live lease was claimed twice")
	}
	if err := st.FinishRun(ctx, 7, claimed.RunID, "other", nil); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("finishing someone else's run: %v, want ErrLeaseLost", err)
	}
	if err := st.FinishRun(ctx, 7, claimed.RunID, "me", nil); err != nil {
		t.Fatal(err)
	}
	next, created, err := st.EnqueueRun(ctx, 7, a.AccountID, TriggerManual, []string{"orders"})
	if err != nil || !created || next.RunID == backfill.RunID {
		t.Fatalf("enqueue after the run finished = %d, %v, %v; want a new run", next.RunID, created, err)
	}
	if got := next.Streams; len(got) != 1 || got[0] != "orders" {
		t.Fatalf("streams = %v, want [orders]", got)
	}
}

func TestSellersDoNotSeeEachOthersAccountsOrRuns(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	a, run := addAccount(t, st, 1, "mall")
	if _, err := st.GetAccount(ctx, 2, a.AccountID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("seller 2 reading seller 1's account: %v, want ErrNotFound", err)
	}
	if _, err := st.GetRun(ctx, 2, run.RunID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("seller 2 reading seller 1's run: %v, want ErrNotFound", err)
	}
	if _, _, err := st.EnqueueRun(ctx, 2, a.AccountID, TriggerManual, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("seller 2 queueing a run of seller 1's account: %v, want ErrNotFound", err)
	}
	if err := st.RemoveAccount(ctx, 2, a.AccountID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("seller 2 removing seller 1's account: %v, want ErrNotFound", err)
	}
}

func TestDuplicateAccountIsRefused(t *testing.T) {
	st, _ := openStore(t)
	addAccount(t, st, 1, "mall")
	_, _, err := st.AddAccount(context.Background(), NewAccount{
		SellerID: 1, Platform: commercev1.Platform_PLATFORM_CAFE24, ExternalAccountID: "mall", DefaultTimeZone: "Asia/Seoul",
		SealCredentials: func(uint64) (Sealed, error) { return Sealed{Ciphertext: []byte("x"), KeyID: "k1"}, nil },
	})
	if !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("second account with the same mall: %v, want ErrAlreadyExists", err)
	}
	// Another seller may connect the same mall id (e.g. an agency and its client).
	addAccount(t, st, 2, "mall")
}
