package mysqltest

import (
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestMain(m *testing.M) { Main(m) }

func TestDatabasesAreFreshAndSeparate(t *testing.T) {
	a := Start(t)
	b := Start(t)
	if a.Name == b.Name {
		t.Fatalf("two calls returned the same database %q", a.Name)
	}
	dbA, dbB := a.Open(t), b.Open(t)
	if _, err := dbA.Exec("CREATE TABLE things (id INT PRIMARY KEY); INSERT INTO things VALUES (1), (2)"); err != nil {
		t.Fatalf("creating a table with multiple statements: %v", err)
	}
	var n int
	if err := dbA.QueryRow("SELECT COUNT(*) FROM things").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count in a = %d, %v; want 2", n, err)
	}
	if err := dbB.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n); err != nil || n != 0 {
		t.Fatalf("tables in b = %d, %v; want an empty database", n, err)
	}
}

func TestServerIsPrivateAndMySQL8Strict(t *testing.T) {
	d := Start(t)
	cfg, err := mysql.ParseDSN(d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv(EnvDSN) == "" && strings.HasSuffix(cfg.Addr, ":3306") {
		t.Fatalf("private server listens on %s, the system server's port", cfg.Addr)
	}
	if !cfg.ParseTime || cfg.Loc.String() != "UTC" {
		t.Fatalf("DSN %q must have parseTime=true and loc=UTC", d.DSN)
	}
	db := d.Open(t)
	if os.Getenv(EnvDSN) != "" {
		return
	}
	var mode string
	if err := db.QueryRow("SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mode, "ONLY_FULL_GROUP_BY") || !strings.Contains(mode, "STRICT_TRANS_TABLES") {
		t.Fatalf("sql_mode = %q; want MySQL 8's strict default", mode)
	}
}

func TestDatabaseIsDroppedAfterTheTest(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		name = Start(t).Name
	})
	srv, err := sharedServer()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := srv.admin.QueryRow("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

func TestDatabaseNameIsValid(t *testing.T) {
	name := databaseName("TestSomething/with spaces and-dashes/and a very long name that goes on and on")
	if len(name) > 64 {
		t.Fatalf("name %q is longer than MySQL's 64 characters", name)
	}
	for _, r := range name {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			t.Fatalf("name %q has %q", name, r)
		}
	}
}
