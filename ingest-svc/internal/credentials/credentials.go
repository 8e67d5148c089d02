// Package credentials seals an account's platform credentials for storage
// and opens them only to call the account's collector. Sealed credentials are
// bound to their seller and account: an envelope copied to another account's
// row does not open.
package credentials

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"

	"hlog.dev/ingest-svc/internal/store"
	"hlog.dev/ingest-svc/internal/vault"
)

// Box seals and opens credentials with a keyring.
type Box struct {
	keys *vault.Keyring
}

// NewBox returns a Box using keys.
func NewBox(keys *vault.Keyring) *Box { return &Box{keys: keys} }

func envelopeContext(sellerID, accountID uint64) []byte {
	return fmt.Appendf(nil, "hlog/platform_accounts/seller=%d/account=%d", sellerID, accountID)
}

// Seal encrypts c for one account.
func (b *Box) Seal(sellerID, accountID uint64, c *collectorv1.Credentials) (store.Sealed, error) {
	plain, err := proto.Marshal(c)
	if err != nil {
		return store.Sealed{}, fmt.Errorf("encoding credentials: %w", err)
	}
	ct, keyID, err := b.keys.Seal(plain, envelopeContext(sellerID, accountID))
	if err != nil {
		return store.Sealed{}, fmt.Errorf("sealing credentials: %w", err)
	}
	return store.Sealed{Ciphertext: ct, KeyID: keyID}, nil
}

// Open decrypts an account's credentials.
func (b *Box) Open(sellerID, accountID uint64, s store.Sealed) (*collectorv1.Credentials, error) {
	plain, err := b.keys.Open(s.Ciphertext, s.KeyID, envelopeContext(sellerID, accountID))
	if err != nil {
		return nil, fmt.Errorf("opening credentials of account %d: %w", accountID, err)
	}
	c := &collectorv1.Credentials{}
	if err := proto.Unmarshal(plain, c); err != nil {
		return nil, fmt.Errorf("decoding credentials of account %d: %w", accountID, err)
	}
	return c, nil
}

// CheckPlatform reports whether c are credentials of platform p, in words
// for the caller.
func CheckPlatform(p commercev1.Platform, c *collectorv1.Credentials) error {
	var got commercev1.Platform
	switch c.GetPlatform().(type) {
	case *collectorv1.Credentials_Cafe24:
		got = commercev1.Platform_PLATFORM_CAFE24
	case *collectorv1.Credentials_Smartstore:
		got = commercev1.Platform_PLATFORM_SMARTSTORE
	case *collectorv1.Credentials_Ably:
		got = commercev1.Platform_PLATFORM_ABLY
	default:
		return fmt.Errorf("credentials are empty: set credentials.%s", oneofName(p))
	}
	if got != p {
		return fmt.Errorf("credentials are for %s but the platform is %s: set credentials.%s", oneofName(got), oneofName(p), oneofName(p))
	}
	return nil
}

func oneofName(p commercev1.Platform) string {
	switch p {
	case commercev1.Platform_PLATFORM_CAFE24:
		return "cafe24"
	case commercev1.Platform_PLATFORM_SMARTSTORE:
		return "smartstore"
	case commercev1.Platform_PLATFORM_ABLY:
		return "ably"
	}
	return p.String()
}
