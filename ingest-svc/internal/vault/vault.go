// Package vault seals platform credentials at rest in AES-256-GCM envelopes.
// Each envelope is stored with the id of the key that sealed it, so keys can
// rotate: new envelopes use the current key, old ones open with the key their
// id names for as long as that key stays in the keyring.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

// version prefixes every envelope, so the format can change later.
const version byte = 1

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Keyring holds the current key and any older keys still needed to open
// envelopes sealed before a rotation.
type Keyring struct {
	currentID string
	aeads     map[string]cipher.AEAD
}

// NewKeyring makes a keyring whose current key is currentID. keys maps key
// ids to 32-byte keys and must contain currentID.
func NewKeyring(currentID string, keys map[string][]byte) (*Keyring, error) {
	k := &Keyring{currentID: currentID, aeads: map[string]cipher.AEAD{}}
	for id, key := range keys {
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("credential key id %q: use 1-64 letters, digits, '.', '_' or '-'", id)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("credential key %q is %d bytes; AES-256 needs %d", id, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("credential key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("credential key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	if _, ok := k.aeads[currentID]; !ok {
		return nil, fmt.Errorf("current credential key %q is not in the keyring", currentID)
	}
	return k, nil
}

// CurrentKeyID is the id of the key new envelopes are sealed with.
func (k *Keyring) CurrentKeyID() string { return k.currentID }

// Seal encrypts plaintext with the current key. context is authenticated but
// not stored: the same context must be given to Open, which binds an
// envelope to its owner (seller and account) so that it cannot be moved to
// another row.
func (k *Keyring) Seal(plaintext, context []byte) (ciphertext []byte, keyID string, err error) {
	aead := k.aeads[k.currentID]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("drawing a nonce: %w", err)
	}
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+aead.Overhead())
	out = append(out, version)
	out = append(out, nonce...)
	out = aead.Seal(out, nonce, plaintext, additionalData(k.currentID, context))
	return out, k.currentID, nil
}

// ErrUndecryptable means an envelope cannot be opened: unknown key id, wrong
// key, wrong context or tampered bytes. Deliberately unspecific.
var ErrUndecryptable = errors.New("credentials cannot be decrypted")

// Open decrypts an envelope sealed with key keyID for context.
func (k *Keyring) Open(ciphertext []byte, keyID string, context []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not in the keyring", ErrUndecryptable, keyID)
	}
	if len(ciphertext) < 1+aead.NonceSize()+aead.Overhead() || ciphertext[0] != version {
		return nil, fmt.Errorf("%w: malformed envelope", ErrUndecryptable)
	}
	nonce := ciphertext[1 : 1+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, ciphertext[1+aead.NonceSize():], additionalData(keyID, context))
	if err != nil {
		return nil, ErrUndecryptable
	}
	return plain, nil
}

// additionalData authenticates the format version and key id along with the
// caller's context.
func additionalData(keyID string, context []byte) []byte {
	ad := make([]byte, 0, 2+len(keyID)+len(context))
	ad = append(ad, version)
	ad = append(ad, keyID...)
	ad = append(ad, 0)
	return append(ad, context...)
}

// ParseKey decodes a base64 (standard or URL alphabet, padded or not) key.
func ParseKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(text); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("key is %d bytes; want %d (base64 of 32 random bytes)", len(key), KeySize)
			}
			return key, nil
		}
	}
	return nil, errors.New("key is not valid base64")
}

// KeyFile is a key kept in a file, for local runs: one line "<key id>
// <base64 key>". Production passes keys through the environment (a
// Kubernetes Secret) instead.
type KeyFile struct {
	ID  string
	Key []byte
}

// ReadKeyFile reads a key file written by WriteKeyFile.
func ReadKeyFile(path string) (KeyFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return KeyFile{}, err
	}
	id, text, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ok {
		return KeyFile{}, fmt.Errorf("key file %s: want one line \"<key id> <base64 key>\"", path)
	}
	key, err := ParseKey(text)
	if err != nil {
		return KeyFile{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return KeyFile{ID: id, Key: key}, nil
}

// CreateKeyFile writes a new random key with id to path, readable by the
// owner only. It fails if the file exists, so it never replaces a key that
// sealed data.
func CreateKeyFile(path, id string) (KeyFile, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return KeyFile{}, fmt.Errorf("drawing a key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return KeyFile{}, err
	}
	if _, err := fmt.Fprintf(f, "%s %s\n", id, base64.StdEncoding.EncodeToString(key)); err != nil {
		f.Close()
		return KeyFile{}, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return KeyFile{}, fmt.Errorf("writing %s: %w", path, err)
	}
	return KeyFile{ID: id, Key: key}, nil
}
