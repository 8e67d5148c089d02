package credentials

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	collectorv1 "hlog.dev/proto/gen/hlog/collector/v1"
	commercev1 "hlog.dev/proto/gen/hlog/commerce/v1"

	"hlog.dev/ingest-svc/internal/vault"
)

func TestSealedCredentialsOpenOnlyForTheirAccount(t *testing.T) {
	keys, err := vault.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	box := NewBox(keys)
	c := &collectorv1.Credentials{Platform: &collectorv1.Credentials_Ably{Ably: &collectorv1.AblyCredentials{Email: "a@b", Password: "hunter2"}}}
	sealed, err := box.Seal(1, 2, c)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed.Ciphertext, []byte("hunter2")) || sealed.KeyID != "k1" {
		t.Fatal("sealed credentials show the password or lack their key id")
	}
	got, err := box.Open(1, 2, sealed)
	if err != nil || !proto.Equal(got, c) {
		t.Fatalf("open = %v, %v", got, err)
	}
	if _, err := box.Open(1, 3, sealed); err == nil {
		t.Fatal("credentials of account 2 opened as account 3's")
	}
	if _, err := box.Open(9, 2, sealed); err == nil {
		t.Fatal("credentials of seller 1 opened as seller 9's")
	}
}

func TestCheckPlatform(t *testing.T) {
	cafe24 := &collectorv1.Credentials{Platform: &collectorv1.Credentials_Cafe24{Cafe24: &collectorv1.Cafe24Credentials{}}}
	if err := CheckPlatform(commercev1.Platform_PLATFORM_CAFE24, cafe24); err != nil {
		t.Fatal(err)
	}
	if err := CheckPlatform(commercev1.Platform_PLATFORM_SMARTSTORE, cafe24); err == nil || !strings.Contains(err.Error(), "credentials.smartstore") {
		t.Fatalf("mismatch: %v", err)
	}
	if err := CheckPlatform(commercev1.Platform_PLATFORM_ABLY, nil); err == nil {
		t.Fatal("accepted no credentials")
	}
}
