package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustKeyring(t *testing.T, current string, keys map[string][]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(current, keys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKeyring(t, "k1", map[string][]byte{"k1": key(1)})
	secret := []byte(`{"refresh_token":"abc"}`)
	ct, id, err := k.Seal(secret, []byte("seller=1/account=2"))
	if err != nil {
		t.Fatal(err)
	}
	if id != "k1" {
		t.Fatalf("key id = %q, want k1", id)
	}
	if bytes.Contains(ct, secret) {
		t.Fatal("ciphertext contains the plaintext")
	}
	got, err := k.Open(ct, id, []byte("seller=1/account=2"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, secret) {
		t.Fatalf("opened %q, want %q", got, secret)
	}
	ct2, _, _ := k.Seal(secret, []byte("seller=1/account=2"))
	if bytes.Equal(ct, ct2) {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
}

func TestOpenFailsWithWrongKeyContextOrBytes(t *testing.T) {
	k := mustKeyring(t, "k1", map[string][]byte{"k1": key(1)})
	ct, id, err := k.Seal([]byte("secret"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	otherKey := mustKeyring(t, "k1", map[string][]byte{"k1": key(2)})
	tampered := append([]byte(nil), ct...)
	tampered[len(tampered)-1] ^= 1
	cases := map[string]func() ([]byte, error){
		"wrong key":      func() ([]byte, error) { return otherKey.Open(ct, id, []byte("a")) },
		"wrong context":  func() ([]byte, error) { return k.Open(ct, id, []byte("b")) },
		"unknown key id": func() ([]byte, error) { return k.Open(ct, "k9", []byte("a")) },
		"tampered":       func() ([]byte, error) { return k.Open(tampered, id, []byte("a")) },
		"truncated":      func() ([]byte, error) { return k.Open(ct[:10], id, []byte("a")) },
	}
	for name, open := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := open()
			if !errors.Is(err, ErrUndecryptable) {
				t.Fatalf("err = %v, want ErrUndecryptable", err)
			}
			if got != nil {
				t.Fatalf("returned %q along with the error", got)
			}
		})
	}
}

func TestRotationOpensOldEnvelopes(t *testing.T) {
	old := mustKeyring(t, "2024", map[string][]byte{"2024": key(1)})
	ct, id, err := old.Seal([]byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustKeyring(t, "2025", map[string][]byte{"2024": key(1), "2025": key(3)})
	if got, err := rotated.Open(ct, id, nil); err != nil || string(got) != "secret" {
		t.Fatalf("opening an old envelope after rotation: %q, %v", got, err)
	}
	_, newID, _ := rotated.Seal([]byte("x"), nil)
	if newID != "2025" {
		t.Fatalf("new envelopes use key %q, want the current 2025", newID)
	}
}

func TestNewKeyringRejectsBadKeys(t *testing.T) {
	if _, err := NewKeyring("k1", map[string][]byte{"k1": make([]byte, 16)}); err == nil {
		t.Error("accepted a 16-byte key")
	}
	if _, err := NewKeyring("k2", map[string][]byte{"k1": key(1)}); err == nil {
		t.Error("accepted a current key id missing from the keys")
	}
	if _, err := NewKeyring("bad id", map[string][]byte{"bad id": key(1)}); err == nil {
		t.Error("accepted a key id with a space")
	}
}

func TestParseKey(t *testing.T) {
	raw := key(7)
	for _, text := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw) + "\n",
	} {
		got, err := ParseKey(text)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("ParseKey(%q) = %x, %v", text, got, err)
		}
	}
	if _, err := ParseKey(base64.StdEncoding.EncodeToString(raw[:31])); err == nil {
		t.Error("accepted a 31-byte key")
	}
	if _, err := ParseKey("not base64!"); err == nil {
		t.Error("accepted text that is not base64")
	}
}

func TestKeyFileIsCreatedOnceAndReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credential.key")
	created, err := CreateKeyFile(path, "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	read, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if read.ID != "dev-1" || !bytes.Equal(read.Key, created.Key) {
		t.Fatalf("read back %q %x, want dev-1 %x", read.ID, read.Key, created.Key)
	}
	if _, err := CreateKeyFile(path, "dev-2"); err == nil {
		t.Fatal("CreateKeyFile replaced an existing key")
	}
}
