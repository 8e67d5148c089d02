package k8s

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerContext lays out, in a fresh folder, exactly what a service's image
// build sees: the files its Dockerfile's build stage COPYs from the
// repository, less what .dockerignore drops. The test builds the binary
// there, so a missing COPY or an over-eager ignore pattern (an embedded
// file, a migration) fails here instead of in `make images`.
func dockerContext(s service, dir string) error {
	df, err := parseDockerfile(filepath.Join(repoRoot, s.Module, "Dockerfile"))
	if err != nil {
		return err
	}
	ignore, err := loadDockerignore(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		return err
	}
	copied := 0
	for _, in := range df.Stages[0] {
		if in.Cmd != "COPY" {
			continue
		}
		fields := strings.Fields(in.Args)
		var srcs []string
		for _, f := range fields[:len(fields)-1] {
			if strings.HasPrefix(f, "--") {
				if strings.HasPrefix(f, "--from") {
					srcs = nil
					break
				}
				continue
			}
			srcs = append(srcs, f)
		}
		for _, src := range srcs {
			matches, err := filepath.Glob(filepath.Join(repoRoot, src))
			if err != nil {
				return err
			}
			if len(matches) == 0 {
				return fmt.Errorf("COPY %s: nothing in the repository matches", src)
			}
			for _, m := range matches {
				n, err := copyTree(m, dir, ignore)
				if err != nil {
					return err
				}
				copied += n
			}
		}
	}
	if copied == 0 {
		return fmt.Errorf("the build stage copies no files")
	}
	return nil
}

// dockerignore holds .dockerignore patterns, compiled with the builder's
// rules: paths relative to the context root, * and ? within one path
// element, ** across elements, and a pattern that matches a folder drops
// everything in it.
type dockerignore []*regexp.Regexp

func loadDockerignore(path string) (dockerignore, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out dockerignore
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			return nil, fmt.Errorf(".dockerignore: exceptions (%s) are not modelled by this test", line)
		}
		line = strings.Trim(filepath.Clean(line), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case strings.HasPrefix(line[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		out = append(out, regexp.MustCompile(re.String()))
	}
	return out, nil
}

// ignored reports whether rel (slash-separated, relative to the context
// root) or a folder above it matches a pattern.
func (d dockerignore) ignored(rel string) bool {
	for p := rel; p != "." && p != ""; p = filepath.Dir(p) {
		for _, re := range d {
			if re.MatchString(p) {
				return true
			}
		}
	}
	return false
}

func copyTree(src, dstRoot string, ignore dockerignore) (int, error) {
	n := 0
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, path)
		if err != nil {
			return err
		}
		if ignore.ignored(filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(dstRoot, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil // the builder copies symlinks as they are; none are needed
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		n++
		return out.Close()
	})
	return n, err
}

func TestDockerignoreMatching(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".dockerignore")
	if err := os.WriteFile(path, []byte("# c\n.git\n**/node_modules\n**/*_test.go\n*.md\nk8s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ig, err := loadDockerignore(path)
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		".git/config":                     true,
		"web/node_modules/chart.js/x.js":  true,
		"node_modules/a":                  true,
		"gateway/internal/x_test.go":      true,
		"README.md":                       true,
		"cafe24-svc/README.md":            false, // *.md is the root only
		"k8s/go.mod":                      true,
		"web/dist/index.html":             false,
		"ingest-svc/internal/store/a.sql": false,
		"proto/kit/server.go":             false,
	} {
		if got := ig.ignored(rel); got != want {
			t.Errorf("%s: ignored=%v, want %v", rel, got, want)
		}
	}
}
