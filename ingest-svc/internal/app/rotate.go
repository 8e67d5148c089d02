package app

import (
	"context"
	"fmt"
	"io"
	"os"

	"hlog.dev/ingest-svc/internal/credentials"
	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/vault"
)

// RotateCommand is the operator command that re-encrypts every credentials
// envelope under the current key:
//
//  1. add a new key as HLOG_CREDENTIAL_KEY / HLOG_CREDENTIAL_KEY_ID and move
//     the old one into HLOG_CREDENTIAL_OLD_KEYS ("id:base64"), then roll the
//     replicas (they seal with the new key and still open the old);
//  2. run `ingest-svc rotate-credential-key` with the same environment;
//  3. once it reports nothing left under old keys, drop the old key.
const RotateCommand = "rotate-credential-key"

func runRotateCommand(ctx context.Context, args []string, out io.Writer) error {
	cfg, err := ParseConfig(args)
	if err != nil {
		return fmt.Errorf("%s: %w", RotateCommand, err)
	}
	secrets, err := LoadSecrets(cfg, os.Getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, secrets.MySQLDSN, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := RotateCredentials(ctx, st, secrets.Keyring)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "re-encrypted %d credential envelopes under key %q; none is left under another key\n", n, secrets.Keyring.CurrentKeyID())
	return nil
}

// RotateCredentials re-encrypts every envelope not sealed by the keyring's
// current key and returns how many it re-encrypted. It may run while syncs
// run: an envelope replaced meanwhile is read again.
func RotateCredentials(ctx context.Context, st *store.Store, keys *vault.Keyring) (int, error) {
	box := credentials.NewBox(keys)
	current := keys.CurrentKeyID()
	rotated := 0
	for pass := 0; ; pass++ {
		var after store.SealedAccount
		raced := 0
		for {
			page, err := st.SealedNotUnder(ctx, current, after, 200)
			if err != nil {
				return rotated, err
			}
			for _, a := range page {
				creds, err := box.Open(a.SellerID, a.AccountID, a.Sealed)
				if err != nil {
					return rotated, fmt.Errorf("account %d of seller %d is sealed under key %q, which is not in HLOG_CREDENTIAL_OLD_KEYS: %w",
						a.AccountID, a.SellerID, a.Sealed.KeyID, err)
				}
				next, err := box.Seal(a.SellerID, a.AccountID, creds)
				if err != nil {
					return rotated, err
				}
				ok, err := st.ReplaceSealed(ctx, a, next)
				if err != nil {
					return rotated, err
				}
				if ok {
					rotated++
				} else {
					raced++
				}
			}
			if len(page) < 200 {
				break
			}
			after = page[len(page)-1]
		}
		if raced == 0 {
			return rotated, nil
		}
		if pass == 10 {
			return rotated, fmt.Errorf("%d envelopes kept changing while being re-encrypted; run the command again", raced)
		}
	}
}
