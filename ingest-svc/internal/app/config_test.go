package app

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfigDefaultsAndEnvFallback(t *testing.T) {
	t.Setenv("HLOG_COLLECTOR_ABLY", "")
	t.Setenv("HLOG_GRPC_ADDR", "127.0.0.1:19090")
	c, err := ParseConfig([]string{"--collector-smartstore", "10.0.0.2:9102"})
	if err != nil {
		t.Fatal(err)
	}
	if c.GRPCAddr != "127.0.0.1:19090" || c.MetricsAddr != ":9190" || c.DefaultTimeZone != "Asia/Seoul" {
		t.Errorf("config %+v", c)
	}
	if c.Collectors["cafe24"] != "127.0.0.1:9101" || c.Collectors["smartstore"] != "10.0.0.2:9102" || c.Collectors["ably"] != "127.0.0.1:9103" {
		t.Errorf("collectors %v", c.Collectors)
	}
	if _, err := ParseConfig([]string{"--default-time-zone", "Mars/Olympus"}); err == nil {
		t.Error("accepted an unknown time zone")
	}
	if _, err := ParseConfig([]string{"--mysql-dsn", "root@/x"}); err == nil {
		t.Error("accepted a DSN flag: secrets must not come from flags")
	}
}

func TestLoadSecretsFromEnvironment(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	old := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	buyer := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	s, err := LoadSecrets(Config{}, env(map[string]string{
		EnvMySQLDSN: "u:p@tcp(db:3306)/hlog", EnvCredentialKey: key, EnvCredentialKeyID: "2025",
		EnvCredentialOldKeys: "2024:" + old, EnvBuyerHashKey: buyer,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.MySQLDSN != "u:p@tcp(db:3306)/hlog" || s.Keyring.CurrentKeyID() != "2025" || len(s.BuyerKey) != 32 {
		t.Fatalf("secrets: dsn %q key %q buyer %d bytes", s.MySQLDSN, s.Keyring.CurrentKeyID(), len(s.BuyerKey))
	}

	for name, e := range map[string]map[string]string{
		"no dsn":          {EnvCredentialKey: key, EnvCredentialKeyID: "k", EnvBuyerHashKey: buyer},
		"key without id":  {EnvMySQLDSN: "x", EnvCredentialKey: key, EnvBuyerHashKey: buyer},
		"short key":       {EnvMySQLDSN: "x", EnvCredentialKey: "c2hvcnQ=", EnvCredentialKeyID: "k", EnvBuyerHashKey: buyer},
		"no buyer key":    {EnvMySQLDSN: "x", EnvCredentialKey: key, EnvCredentialKeyID: "k"},
		"no credentials":  {EnvMySQLDSN: "x", EnvBuyerHashKey: buyer},
		"bad old keys":    {EnvMySQLDSN: "x", EnvCredentialKey: key, EnvCredentialKeyID: "k", EnvBuyerHashKey: buyer, EnvCredentialOldKeys: "nocolon"},
		"short buyer key": {EnvMySQLDSN: "x", EnvCredentialKey: key, EnvCredentialKeyID: "k", EnvBuyerHashKey: "c2hvcnQ="},
	} {
		if _, err := LoadSecrets(Config{}, env(e)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), key) {
			t.Errorf("%s: error repeats the key: %v", name, err)
		}
	}
}

func TestLoadSecretsFromFilesCreatesKeysOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "dsn")
	if err := os.WriteFile(dsnFile, []byte("root@unix(/tmp/s.sock)/hlog\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{MySQLDSNFile: dsnFile, CredentialKeyFile: filepath.Join(dir, "cred.key"), BuyerHashKeyFile: filepath.Join(dir, "buyer.key")}
	if _, err := LoadSecrets(c, env(nil)); err == nil {
		t.Fatal("missing key files were accepted without --create-missing-keys")
	}
	c.CreateMissingKeys = true
	first, err := LoadSecrets(c, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if first.MySQLDSN != "root@unix(/tmp/s.sock)/hlog" {
		t.Fatalf("dsn %q", first.MySQLDSN)
	}
	second, err := LoadSecrets(c, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.BuyerKey, second.BuyerKey) || first.Keyring.CurrentKeyID() != second.Keyring.CurrentKeyID() {
		t.Fatal("a second start made new keys instead of reading the files")
	}
	ct, id, err := first.Keyring.Seal([]byte("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.Keyring.Open(ct, id, nil); err != nil {
		t.Fatalf("the key read back does not open what the created key sealed: %v", err)
	}
}
