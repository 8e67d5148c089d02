package k8s

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	corev1 "k8s.io/api/core/v1"

	"hlog.dev/proto/kit/mysqltest"
)

// TestBackupAndRestore runs the CronJob's backup.sh against a real MariaDB
// holding ingest-svc's schema and awkward data, then follows the restore
// procedure of docs/operations.md (load the dump into a new database) and
// compares every table. A dump that fails must leave no backup behind.
func TestBackupAndRestore(t *testing.T) {
	for _, tool := range []string{"gzip", "mariadb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (scripts/install-deps.sh mariadb): %v", tool, err)
		}
	}
	src := mysqltest.Start(t)
	db := openDB(t, src.DSN)
	loadSchema(t, db)
	mustExec(t, db, `CREATE TABLE backup_probe (
		id BIGINT NOT NULL PRIMARY KEY,
		name VARCHAR(100) CHARACTER SET utf8mb4 NOT NULL,
		minor_units BIGINT NOT NULL,
		at DATETIME(6) NOT NULL,
		raw VARBINARY(32) NULL
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`)
	rows := []struct {
		name string
		raw  []byte
	}{
		{"여름 린넨 셔츠 (화이트) 😀", []byte{0, 1, 2, 0xff, '\'', '"', '\\', '\n'}},
		{"it's \"quoted\"; DROP TABLE x; --", nil},
		{strings.Repeat("가", 100), []byte{}},
	}
	for i, r := range rows {
		mustExec(t, db, "INSERT INTO backup_probe VALUES (?, ?, ?, ?, ?)", i+1, r.name, int64(29500)*int64(i+1), time.Date(2026, 11, 21, 8, 0, 0, 123456000, time.UTC), r.raw)
	}

	cfg, err := mysql.ParseDSN(src.DSN)
	if err != nil {
		t.Fatal(err)
	}
	host, port, ok := strings.Cut(cfg.Addr, ":")
	if cfg.Net != "tcp" || !ok {
		t.Fatalf("the private MariaDB is at %s %s; the backup job connects over TCP", cfg.Net, cfg.Addr)
	}
	// The least-privileged user docs/operations.md tells to create.
	user, password := "bk_"+strings.TrimPrefix(src.Name, "hlog_"), `backup-pw-'"\-1 x`
	if len(user) > 32 {
		user = user[:32]
	}
	mustExec(t, db, "CREATE USER '"+user+"'@'%' IDENTIFIED BY "+sqlString(password))
	t.Cleanup(func() { _, _ = db.Exec("DROP USER '" + user + "'@'%'") })
	mustExec(t, db, "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON `"+src.Name+"`.* TO '"+user+"'@'%'")
	backupDir := t.TempDir()
	run := func(password string) ([]byte, error) {
		cmd := exec.Command("/bin/sh", "base/mysql-backup/backup.sh")
		cmd.Env = []string{
			"PATH=/usr/local/bin:/usr/bin:/bin",
			"MYSQL_HOST=" + host, "MYSQL_PORT=" + port, "MYSQL_USER=" + user,
			"MYSQL_PASSWORD=" + password, "MYSQL_DATABASE=" + src.Name,
			"BACKUP_DIR=" + backupDir, "TMPDIR=" + t.TempDir(), "BACKUP_KEEP_DAYS=14",
		}
		return cmd.CombinedOutput()
	}

	// A failing dump (refused password) leaves nothing behind.
	if out, err := run(password + "-wrong"); err == nil || !bytes.Contains(out, []byte("no backup written")) {
		t.Fatalf("backup.sh with a wrong password: %v, want a failure saying no backup was written:\n%s", err, out)
	}
	if left := listDir(t, backupDir); len(left) != 0 {
		t.Fatalf("a failed backup left %v", left)
	}

	out, err := run(password)
	if err != nil {
		t.Fatalf("backup.sh: %v\n%s", err, out)
	}
	files := listDir(t, backupDir)
	if len(files) != 1 || !strings.HasPrefix(files[0], "hlog-") || !strings.HasSuffix(files[0], ".sql.gz") {
		t.Fatalf("backup dir holds %v, want one hlog-*.sql.gz\n%s", files, out)
	}
	dump := filepath.Join(backupDir, files[0])
	if !bytes.Contains(out, []byte("backup written: "+dump)) {
		t.Errorf("backup.sh did not report the dump it wrote:\n%s", out)
	}

	// Restore, as the guide says: a new database, then gzip -dc | mariadb.
	dst := mysqltest.Start(t)
	cnf := filepath.Join(t.TempDir(), "client.cnf")
	if err := os.WriteFile(cnf, fmt.Appendf(nil, "[client]\nhost=%s\nport=%s\nuser=%s\npassword=\"%s\"\n", host, port, cfg.User, cfg.Passwd), 0o600); err != nil {
		t.Fatal(err)
	}
	restore := exec.Command("/bin/sh", "-c", `gzip -dc "$1" | mariadb --defaults-extra-file="$2" "$3"`, "restore", dump, cnf, dst.Name)
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("restoring %s into %s: %v\n%s", dump, dst.Name, err, out)
	}

	restored := openDB(t, dst.DSN)
	want, got := tables(t, db), tables(t, restored)
	if !slices.Equal(want, got) {
		t.Fatalf("restored tables %v, want %v", got, want)
	}
	if len(want) < 5 {
		t.Fatalf("only %d tables were backed up: the schema did not load", len(want))
	}
	for _, table := range want {
		if a, b := checksum(t, db, table), checksum(t, restored, table); a != b {
			t.Errorf("table %s: checksum %s after restore, %s before", table, b, a)
		}
		if a, b := createTable(t, db, table), createTable(t, restored, table); a != b {
			t.Errorf("table %s: definition differs after restore:\n%s\nwant:\n%s", table, b, a)
		}
	}
	var name string
	var raw []byte
	if err := restored.QueryRow("SELECT name, raw FROM backup_probe WHERE id = 1").Scan(&name, &raw); err != nil {
		t.Fatal(err)
	}
	if name != rows[0].name || !bytes.Equal(raw, rows[0].raw) {
		t.Errorf("row 1 restored as %q %x, want %q %x", name, raw, rows[0].name, rows[0].raw)
	}
}

// sqlString quotes s as a MySQL string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// loadSchema applies ingest-svc's migrations, so the backup covers the real
// tables, keys and collations.
func loadSchema(t *testing.T, db *sql.DB) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "ingest-svc", "internal", "store", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("ingest-svc migrations: %v (found %d)", err, len(files))
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, string(b)) // the DSN allows multiple statements
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func checksum(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var name string
	var sum sql.NullString
	if err := db.QueryRow("CHECKSUM TABLE `"+table+"` EXTENDED").Scan(&name, &sum); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.QueryRow("SELECT COUNT(*) FROM `" + table + "`").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s/%d rows", sum.String, n)
}

func createTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var name, ddl string
	if err := db.QueryRow("SHOW CREATE TABLE `"+table+"`").Scan(&name, &ddl); err != nil {
		t.Fatal(err)
	}
	// AUTO_INCREMENT counters are state, not definition.
	var kept []string
	for _, f := range strings.Fields(ddl) {
		if !strings.HasPrefix(f, "AUTO_INCREMENT=") {
			kept = append(kept, f)
		}
	}
	return strings.Join(kept, " ")
}

// TestBackupCronJobRunsTheTestedScript ties the CronJob to the script
// TestBackupAndRestore runs: the command runs that very file from a mounted
// ConfigMap, every variable the script requires is set, and the folders it
// writes are mounted volumes (the root filesystem is read-only).
func TestBackupCronJobRunsTheTestedScript(t *testing.T) {
	script, err := os.ReadFile("base/mysql-backup/backup.sh")
	if err != nil {
		t.Fatal(err)
	}
	required := regexp.MustCompile(`\$\{([A-Z_]+):\?\}`).FindAllStringSubmatch(string(script), -1)
	if len(required) == 0 {
		t.Fatal("backup.sh names no required variable")
	}
	for _, env := range environments {
		t.Run(env, func(t *testing.T) {
			objs := mustRender(t, env)
			var w *workload
			for _, wl := range workloads(objs) {
				if wl.Kind == "CronJob" && wl.Name == "mysql-backup" {
					w = &wl
				}
			}
			if w == nil {
				t.Fatalf("%s has no CronJob mysql-backup", env)
			}
			c := w.Pod.Containers[0]
			if len(c.Command) != 2 || c.Command[0] != "/bin/sh" {
				t.Fatalf("command %q, want /bin/sh <script>", c.Command)
			}
			mounted := func(path string) (corev1.Volume, bool) {
				for _, m := range c.VolumeMounts {
					if strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") || path == m.MountPath {
						for _, v := range w.Pod.Volumes {
							if v.Name == m.Name {
								return v, true
							}
						}
					}
				}
				return corev1.Volume{}, false
			}
			v, ok := mounted(c.Command[1])
			if !ok || v.ConfigMap == nil {
				t.Fatalf("%s is not in a mounted ConfigMap", c.Command[1])
			}
			cm, ok := find[*corev1.ConfigMap](objs, v.ConfigMap.Name)
			if !ok || cm.Data[filepath.Base(c.Command[1])] != string(script) {
				t.Errorf("the CronJob runs %s from ConfigMap %s, which does not hold base/mysql-backup/backup.sh", c.Command[1], v.ConfigMap.Name)
			}
			set := map[string]string{}
			for _, e := range c.Env {
				set[e.Name] = e.Value
			}
			for _, r := range required {
				if _, ok := set[r[1]]; !ok {
					t.Errorf("backup.sh requires %s; the CronJob does not set it", r[1])
				}
			}
			for name, def := range map[string]string{"BACKUP_DIR": "/backup", "TMPDIR": "/tmp"} {
				dir := def
				if v := set[name]; v != "" {
					dir = v
				}
				vol, ok := mounted(dir + "/x")
				if !ok {
					t.Errorf("backup.sh writes to %s (%s), which is no mounted volume", dir, name)
				}
				if name == "BACKUP_DIR" && vol.PersistentVolumeClaim == nil {
					t.Errorf("dumps go to %s, which is not a persistent volume", dir)
				}
			}
		})
	}
}
