package naverapi

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The official test vector (smartstore.md §1, [DOC] auth.md).
const (
	vectorClientID  = "aaaabbbbcccc"
	vectorSecret    = "$2a$10$abcdefghijklmnopqrstuv"
	vectorTimestamp = 1643961623299
	vectorSign      = "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVCVldZSk42T0VPdEx1OFY0cDQxa2IuTnpVaUEzbmsy"
)

func TestSignMatchesTheOfficialTestVector(t *testing.T) {
	got, err := Sign(vectorClientID, vectorSecret, vectorTimestamp)
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSign {
		t.Fatalf("sign = %s\nwant   %s", got, vectorSign)
	}
	hash, _ := base64.StdEncoding.DecodeString(got)
	if err := bcrypt.CompareHashAndPassword(hash, []byte("aaaabbbbcccc_1643961623299")); err != nil {
		t.Fatalf("x/crypto/bcrypt rejects the signature: %v", err)
	}
}

func TestSignAgreesWithXCryptoBcrypt(t *testing.T) {
	for _, secret := range []string{"$2a$04$hlogdevsandboxsecret00", "$2a$04$ABCDEFGHIJKLMNOPQRSTUV", "$2b$05$0123456789./abcdefghij"} {
		sign, err := Sign("some-client", secret, 1700000000123)
		if err != nil {
			t.Fatal(err)
		}
		hash, _ := base64.StdEncoding.DecodeString(sign)
		if !strings.HasPrefix(string(hash), secret[:28]) {
			t.Errorf("%s: hash %s does not carry the salt", secret, hash)
		}
		if err := bcrypt.CompareHashAndPassword(hash, []byte("some-client_1700000000123")); err != nil {
			t.Errorf("%s: %v", secret, err)
		}
		if err := bcrypt.CompareHashAndPassword(hash, []byte("some-client_1700000000124")); err == nil {
			t.Errorf("%s: another timestamp verifies", secret)
		}
	}
	for _, bad := range []string{"", "secret", "$2a$04$short", "$2a$03$abcdefghijklmnopqrstuv", "$2a$04$abcdefghijklmnopqrstu!"} {
		if _, err := Sign("c", bad, 1); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}
