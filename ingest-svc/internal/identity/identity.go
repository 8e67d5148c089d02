// Package identity holds who may call H-log: sellers (sign-up, bcrypt
// passwords, sign-in throttling, sessions with CSRF tokens) and the API keys
// internal teams use. It serves hlog.identity.v1's SellerService and
// ApiKeyService, and checks API keys for the auth interceptor.
//
// Nothing secret is stored: passwords as bcrypt hashes, session tokens and
// API key secrets as SHA-256 of 32 random bytes.
package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/crypto/bcrypt"
)

// Config tunes a Service; zero values take the defaults.
type Config struct {
	// Now is the clock; nil means time.Now. Tests move their own.
	Now func() time.Time
	// DefaultTimeZone of new sellers; empty means Asia/Seoul.
	DefaultTimeZone string
	// SessionTTL is how long a session lives; 0 means 14 days.
	SessionTTL time.Duration
	// BcryptCost; 0 means bcrypt.DefaultCost. Tests lower it.
	BcryptCost int
	// Throttle says when failed sign-ins slow down; zero means DefaultThrottle.
	Throttle Throttle
}

// Service implements SellerService and ApiKeyService over MySQL.
type Service struct {
	db  *sql.DB
	cfg Config
	// dummyHash is compared against when an e-mail is unknown, so a
	// sign-in takes as long whether or not the seller exists.
	dummyHash []byte

	idMu   sync.Mutex
	lastID uint64
}

// New returns a Service on db, whose schema store.Migrate has created.
func New(db *sql.DB, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultTimeZone == "" {
		cfg.DefaultTimeZone = "Asia/Seoul"
	}
	if _, err := time.LoadLocation(cfg.DefaultTimeZone); err != nil {
		return nil, err
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 14 * 24 * time.Hour
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.Throttle == (Throttle{}) {
		cfg.Throttle = DefaultThrottle
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("no such seller, no such password"), cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	return &Service{db: db, cfg: cfg, dummyHash: dummy}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// newID makes seller and key ids the way the store makes account ids:
// milliseconds in the high bits, 20 random bits below, strictly increasing
// within the process; the primary key catches the rare cross-replica clash.
func (s *Service) newID() uint64 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := uint64(s.cfg.Now().UnixMilli())<<20 | uint64(binary.BigEndian.Uint32(b[:])&(1<<20-1))
	s.idMu.Lock()
	defer s.idMu.Unlock()
	if id <= s.lastID {
		id = s.lastID + 1
	}
	s.lastID = id
	return id
}

// randomToken is 32 random bytes, URL-safe.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func isDuplicateKey(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
