package k8s

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hlog.dev/proto/kit"
	"hlog.dev/proto/kit/mysqltest"
)

// service is one H-log service that runs in the cluster: its Deployment,
// container, image and binary all carry Name.
type service struct {
	Name   string
	Module string // folder of its Go module, relative to the repository root
	Cmd    string // its main package inside the module
}

var services = []service{
	{Name: "cafe24-svc", Module: "cafe24-svc", Cmd: "./cmd/cafe24-svc"},
	{Name: "smartstore-svc", Module: "smartstore-svc", Cmd: "./cmd/smartstore-svc"},
	{Name: "ably-svc", Module: "ably-svc", Cmd: "./cmd/ably-svc"},
	{Name: "ingest-svc", Module: "ingest-svc", Cmd: "./cmd/ingest-svc"},
	{Name: "gateway", Module: "gateway", Cmd: "./cmd/gateway"},
}

var collectors = []string{"cafe24-svc", "smartstore-svc", "ably-svc"}

func serviceNamed(name string) (service, bool) {
	for _, s := range services {
		if s.Name == name {
			return s, true
		}
	}
	return service{}, false
}

// repoRoot is the repository root: the test runs in k8s/.
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(wd)
}()

// Stamped into every test build; found again in the binary, it proves the
// -X symbol the Dockerfiles use exists.
const (
	stampVersion = "v0.0.0-k8s-test-stamp"
	stampCommit  = "c0ffee0k8s"
	stampSymbol  = "hlog.dev/proto/kit"
)

// flagInfo is one flag as the binary's -help prints it.
type flagInfo struct {
	Name, Type, Default, Usage string
}

// binary is what a service's built program reads.
type binary struct {
	Path    string
	KitName string // the service name its logs carry (kit.Main)
	Flags   map[string]flagInfo
	// Env holds the HLOG_ variables it reads that are not flag fallbacks
	// (secrets: secrets never come from flags), found as string literals in
	// the packages it is built from and confirmed in the binary itself.
	Env   map[string]bool
	Bytes []byte
}

// FlagForEnv returns the flag an HLOG_ variable is the fallback of.
func (b *binary) FlagForEnv(name string) (flagInfo, bool) {
	for _, f := range b.Flags {
		if kit.EnvName(f.Name) == name {
			return f, true
		}
	}
	return flagInfo{}, false
}

var (
	binDir     string
	binMu      sync.Mutex
	binOnce    = map[string]*sync.Once{}
	binResults = map[string]*binary{}
	binErrs    = map[string]error{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hlog-k8s-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	if err := mysqltest.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "mysqltest: %v\n", err)
		code = max(code, 1)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds a service the way its Dockerfile does (from the files
// its build context holds, inside its own module, without the workspace,
// stamped with -ldflags -X), once per test run, and reads its flags from
// -help.
func buildBinary(t *testing.T, s service) *binary {
	t.Helper()
	binMu.Lock()
	once, ok := binOnce[s.Name]
	if !ok {
		once = &sync.Once{}
		binOnce[s.Name] = once
	}
	binMu.Unlock()
	once.Do(func() {
		b, err := build(s)
		binMu.Lock()
		binResults[s.Name], binErrs[s.Name] = b, err
		binMu.Unlock()
	})
	binMu.Lock()
	defer binMu.Unlock()
	if err := binErrs[s.Name]; err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	return binResults[s.Name]
}

func build(s service) (*binary, error) {
	out := filepath.Join(binDir, s.Name)
	buildCtx := filepath.Join(binDir, s.Name+".context")
	if err := dockerContext(s, buildCtx); err != nil {
		return nil, fmt.Errorf("%s/Dockerfile: laying out its build context: %w", s.Module, err)
	}
	defer os.RemoveAll(buildCtx)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", fmt.Sprintf("-X %s.Version=%s -X %s.Commit=%s", stampSymbol, stampVersion, stampSymbol, stampCommit),
		"-o", out, s.Cmd)
	cmd.Dir = filepath.Join(buildCtx, s.Module)
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if msg, err := cmd.CombinedOutput(); err != nil {
		hint := ""
		if bytes.Contains(msg, []byte("missing go.sum entry")) || bytes.Contains(msg, []byte("no required module provides")) {
			// The workspace hides this; the image build (one module, no
			// go.work) does not.
			hint = fmt.Sprintf("\n%s/go.mod and go.sum are incomplete: run `cd %s && GOWORK=off go mod tidy`", s.Module, s.Module)
		}
		return nil, fmt.Errorf("building %s as its Dockerfile does (GOWORK=off go build %s in %s, from its build context): %v%s\n%s", s.Name, s.Cmd, s.Module, err, hint, msg)
	}
	b := &binary{Path: out}
	var err error
	if b.Bytes, err = os.ReadFile(out); err != nil {
		return nil, err
	}
	for _, stamp := range []string{stampVersion, stampCommit} {
		if !bytes.Contains(b.Bytes, []byte(stamp)) {
			return nil, fmt.Errorf("%s: the stamp %q given with -X %s.Version/Commit is not in the binary: the symbol the Dockerfiles stamp does not exist", s.Name, stamp, stampSymbol)
		}
	}
	if b.Flags, b.KitName, err = helpOf(out); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	env, err := envLiterals(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	b.Env = map[string]bool{}
	for name := range env {
		if bytes.Contains(b.Bytes, []byte(name)) {
			b.Env[name] = true
		}
	}
	return b, nil
}

var (
	flagLine    = regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9_.-]*)(?: (\S+))?$`)
	flagLineOne = regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9_.-]*)\t(.*)$`)
	usageLine   = regexp.MustCompile(`^    \t(.*)$`)
)

// helpOf runs `binary -help` with an empty environment and parses the
// flag package's usage listing, wherever the program printed it: plain on
// stderr, or inside the JSON error line kit.Main logs.
func helpOf(path string) (map[string]flagInfo, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-help")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + os.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // -help exits non-zero
	text := stdout.String() + "\n" + stderr.String()
	kitName := ""
	for _, line := range strings.Split(text, "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) != nil {
			continue
		}
		if s, ok := entry["service"].(string); ok && kitName == "" {
			kitName = s
		}
		for _, v := range entry {
			if s, ok := v.(string); ok && strings.Contains(s, "\n  -") {
				text += "\n" + s
			}
		}
	}
	flags := map[string]flagInfo{}
	var cur *flagInfo
	finish := func() {
		if cur == nil {
			return
		}
		cur.Default = defaultOf(cur.Type, cur.Usage)
		flags[cur.Name] = *cur
		cur = nil
	}
	for _, line := range strings.Split(text, "\n") {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			finish()
			cur = &flagInfo{Name: m[1], Type: m[2]}
			if cur.Type == "" {
				cur.Type = "bool"
			}
			continue
		}
		if m := flagLineOne.FindStringSubmatch(line); m != nil {
			finish()
			cur = &flagInfo{Name: m[1], Type: "bool", Usage: m[2]}
			continue
		}
		if m := usageLine.FindStringSubmatch(line); m != nil && cur != nil {
			if cur.Usage != "" {
				cur.Usage += "\n"
			}
			cur.Usage += m[1]
			continue
		}
		finish()
	}
	finish()
	if len(flags) == 0 {
		return nil, "", fmt.Errorf("-help printed no flags:\n%s", text)
	}
	if kitName == "" {
		return nil, "", fmt.Errorf("-help logged no service name (kit.Main logs one):\n%s", text)
	}
	return flags, kitName, nil
}

// defaultOf reads the "(default ...)" the flag package appends to a usage;
// none means the zero value.
func defaultOf(typ, usage string) string {
	i := strings.LastIndex(usage, " (default ")
	if i < 0 || !strings.HasSuffix(usage, ")") {
		switch typ {
		case "int", "uint", "int64", "uint64", "float":
			return "0"
		case "duration":
			return "0s"
		case "bool":
			return "false"
		}
		return ""
	}
	raw := usage[i+len(" (default ") : len(usage)-1]
	if typ == "string" {
		if s, err := strconv.Unquote(raw); err == nil {
			return s
		}
	}
	return raw
}

var envLiteral = regexp.MustCompile(`^HLOG_[A-Z0-9_]+$`)

// envLiterals collects the HLOG_ names written as string literals in the
// non-test sources of every H-log package the binary is built from.
func envLiterals(s service) (map[string]bool, error) {
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if eq (printf "%.9s" .Module.Path) "hlog.dev/"}}{{.Dir}}{{"\t"}}{{join .GoFiles " "}}{{end}}{{end}}`, s.Cmd)
	cmd.Dir = filepath.Join(repoRoot, s.Module)
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the packages of %s: %w", s.Cmd, err)
	}
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, files, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(files) {
			file, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, 0)
			if err != nil {
				return nil, err
			}
			ast.Inspect(file, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if v, err := strconv.Unquote(lit.Value); err == nil && envLiteral.MatchString(v) {
						names[v] = true
					}
				}
				return true
			})
		}
	}
	return names, nil
}

func TestHelpParsing(t *testing.T) {
	// The listing format of the standard flag package, as kit.Main logs it.
	dir := t.TempDir()
	prog := filepath.Join(dir, "main.go")
	src := `package main

import ("flag"; "fmt"; "os"; "time")

func main() {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("grpc-addr", ":9101", "gRPC listen address")
	fs.String("empty", "", "no default")
	fs.Bool("create-missing-keys", false, "create keys")
	fs.Int("n", 4, "count")
	fs.Duration("grace", 20*time.Second, "grace")
	fs.String("quoted", "a \"b\" (c)", "tricky")
	fs.Parse(os.Args[1:])
	fmt.Fprintln(os.Stderr, "{\"service\":\"x-svc\",\"err\":\"help\"}")
}
`
	if err := os.WriteFile(prog, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x")
	cmd := exec.Command("go", "build", "-o", out, prog)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	flags, name, err := helpOf(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"grpc-addr": ":9101", "empty": "", "create-missing-keys": "false", "n": "4", "grace": "20s", "quoted": `a "b" (c)`}
	for f, d := range want {
		if got, ok := flags[f]; !ok || got.Default != d {
			t.Errorf("flag %s: got %+v, want default %q", f, got, d)
		}
	}
	if len(flags) != len(want) {
		t.Errorf("parsed %d flags, want %d: %+v", len(flags), len(want), flags)
	}
	if name != "x-svc" {
		t.Errorf("service name %q, want x-svc", name)
	}
}
