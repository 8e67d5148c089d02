package naverapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"golang.org/x/crypto/blowfish"
)

// secretPattern: a Commerce API client secret is itself a bcrypt salt,
// "$2a$04$" and 22 characters of bcrypt's base64 alphabet (smartstore.md §1).
var secretPattern = regexp.MustCompile(`^\$2[aby]?\$(\d\d)\$([./A-Za-z0-9]{22})$`)

// bcryptBase64 is bcrypt's own base64 alphabet, without padding.
var bcryptBase64 = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

// ValidSecret reports whether secret has the shape of a client secret.
func ValidSecret(secret string) bool { return secretPattern.MatchString(secret) }

// Sign computes client_secret_sign for the token request (smartstore.md §1):
// base64(bcrypt(client_id + "_" + timestamp, salt = client secret)), with the
// timestamp in Unix milliseconds.
//
// golang.org/x/crypto/bcrypt only hashes with a random salt, and the
// signature needs the secret as the salt, so the bcrypt rounds are run here
// on x/crypto's blowfish exactly as x/crypto/bcrypt runs them; the tests hold
// the result to the official test vector and to bcrypt.CompareHashAndPassword.
func Sign(clientID, secret string, timestampMillis int64) (string, error) {
	m := secretPattern.FindStringSubmatch(secret)
	if m == nil {
		return "", errors.New(`client secret is not a bcrypt salt ("$2a$04$" and 22 characters)`)
	}
	cost, _ := strconv.Atoi(m[1])
	if cost < 4 || cost > 31 {
		return "", fmt.Errorf("client secret's bcrypt cost %d is outside 4-31", cost)
	}
	salt, err := bcryptBase64.DecodeString(m[2])
	if err != nil || len(salt) != 16 {
		return "", errors.New("client secret's salt does not decode to 16 bytes")
	}
	password := []byte(clientID + "_" + strconv.FormatInt(timestampMillis, 10))
	if len(password) > 72 {
		return "", errors.New("client id too long to sign (bcrypt takes at most 72 bytes)")
	}
	// Like C bcrypt, the key includes its terminating NUL.
	key := append(password, 0)
	c, err := blowfish.NewSaltedCipher(key, salt)
	if err != nil {
		return "", fmt.Errorf("bcrypt setup: %w", err)
	}
	for i := uint64(0); i < 1<<uint(cost); i++ {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt, c)
	}
	text := []byte("OrpheanBeholderScryDoubt")
	for i := 0; i < 24; i += 8 {
		for range 64 {
			c.Encrypt(text[i:i+8], text[i:i+8])
		}
	}
	// Only 23 of the 24 bytes are encoded, as C bcrypt does; the salt is
	// re-encoded, which normalises its last character (smartstore.md §1).
	hash := secret[:7] + bcryptBase64.EncodeToString(salt) + bcryptBase64.EncodeToString(text[:23])
	return base64.StdEncoding.EncodeToString([]byte(hash)), nil
}
