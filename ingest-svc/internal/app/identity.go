package app

// Issue 7: seller identity, API keys and the auth interceptor, wired into
// ingest-svc. Kept in this file so the composition root (app.go) changes by
// a few marked lines only.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	identityv1 "hlog.dev/proto/gen/hlog/identity/v1"
	"hlog.dev/proto/kit"

	"hlog.dev/ingest-svc/internal/auth"
	"hlog.dev/ingest-svc/internal/identity"
	"hlog.dev/ingest-svc/internal/store"
)

// The service token the gateway presents: from HLOG_SERVICE_TOKEN, or from
// the file named by HLOG_SERVICE_TOKEN_FILE (created with a random token
// under --create-missing-keys, for local runs).
const (
	EnvServiceToken     = "HLOG_SERVICE_TOKEN"
	EnvServiceTokenFile = "HLOG_SERVICE_TOKEN_FILE"
)

// LoadServiceToken reads the service token.
func LoadServiceToken(getenv func(string) string, createMissing bool) (string, error) {
	if t := strings.TrimSpace(getenv(EnvServiceToken)); t != "" {
		return t, nil
	}
	path := getenv(EnvServiceTokenFile)
	if path == "" {
		return "", fmt.Errorf("no service token: set %s or %s (the gateway uses the same one)", EnvServiceToken, EnvServiceTokenFile)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && createMissing {
		var raw [32]byte
		_, _ = rand.Read(raw[:])
		tok := base64.RawURLEncoding.EncodeToString(raw[:])
		if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("creating %s: %w", EnvServiceTokenFile, err)
		}
		return tok, nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", EnvServiceTokenFile, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// identityParts are what Run adds for issue 7.
type identityParts struct {
	auth *auth.Interceptor
	svc  *identity.Service
}

func buildIdentity(st *store.Store, defaultTimeZone string, createMissing bool) (identityParts, error) {
	token, err := LoadServiceToken(os.Getenv, createMissing)
	if err != nil {
		return identityParts{}, err
	}
	svc, err := identity.New(st.DB(), identity.Config{DefaultTimeZone: defaultTimeZone})
	if err != nil {
		return identityParts{}, err
	}
	interceptor, err := auth.New(token, svc)
	if err != nil {
		return identityParts{}, fmt.Errorf("service token: %w", err)
	}
	return identityParts{auth: interceptor, svc: svc}, nil
}

func (p identityParts) register(r grpc.ServiceRegistrar) {
	identityv1.RegisterSellerServiceServer(r, &identity.Sellers{Service: p.svc})
	identityv1.RegisterApiKeyServiceServer(r, &identity.ApiKeys{Service: p.svc})
}

// runAPIKeyCommand is the operator command that makes, lists and revokes API
// keys for internal teams, straight on the database:
//
//	ingest-svc apikey create --name finance --all
//	ingest-svc apikey create --name shop-42-reports --seller 42
//	ingest-svc apikey list
//	ingest-svc apikey revoke <key id>
func runAPIKeyCommand(ctx context.Context, args []string, out io.Writer) error {
	usage := errors.New("usage: ingest-svc apikey create --name NAME (--seller ID | --all) | list | revoke KEY_ID  [--mysql-dsn-file FILE]")
	if len(args) == 0 {
		return usage
	}
	verb := args[0]
	fs := flag.NewFlagSet("ingest-svc apikey "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsnFile := fs.String("mysql-dsn-file", "", "file holding the MySQL DSN (else "+EnvMySQLDSN+")")
	name := fs.String("name", "", "what the key is for")
	seller := fs.Uint64("seller", 0, "the one seller the key reaches")
	all := fs.Bool("all", false, "the key reaches every seller (each call names one)")
	if err := kit.ParseFlags(fs, args[1:]); err != nil {
		return fmt.Errorf("%w\n%v", err, usage)
	}
	dsn := strings.TrimSpace(os.Getenv(EnvMySQLDSN))
	if dsn == "" && *dsnFile != "" {
		b, err := os.ReadFile(*dsnFile)
		if err != nil {
			return fmt.Errorf("reading --mysql-dsn-file: %w", err)
		}
		dsn = strings.TrimSpace(string(b))
	}
	if dsn == "" {
		return fmt.Errorf("no database: set %s or --mysql-dsn-file", EnvMySQLDSN)
	}
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := identity.New(st.DB(), identity.Config{})
	if err != nil {
		return err
	}
	switch verb {
	case "create":
		if (*seller == 0) == !*all {
			return errors.New("apikey create: give exactly one of --seller ID or --all")
		}
		scope := identity.ScopeSeller
		if *all {
			scope = identity.ScopeAll
		}
		key, secret, err := svc.CreateKey(ctx, *name, scope, *seller)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "key id  %d\nscope   %s\nsecret  %s\n\nThe secret is shown once; store it now. Send it as \"authorization: Bearer <secret>\".\n", key.ID, scopeText(key.Key), secret)
		return nil
	case "list":
		keys, err := svc.ListKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY ID\tNAME\tSCOPE\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", k.ID, k.Name, scopeText(k.Key), k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("apikey revoke: give the key id")
		}
		if _, err := svc.RevokeKey(ctx, fs.Arg(0), 0); err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked key %s\n", fs.Arg(0))
		return nil
	}
	return usage
}

func scopeText(k identity.Key) string {
	if k.Scope == identity.ScopeAll {
		return "all sellers"
	}
	return fmt.Sprintf("seller %d", k.SellerID)
}
