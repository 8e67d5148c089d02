package k8s

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// dockerfile is a Dockerfile split into instructions, continuation lines
// joined and comments dropped.
type dockerfile struct {
	Stages [][]instruction
}

type instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY, ...
	Args string
}

func parseDockerfile(path string) (dockerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return dockerfile{}, err
	}
	defer f.Close()
	var df dockerfile
	var pending string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && pending == "") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line = pending + line
		pending = ""
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.Join(strings.Fields(args), " ")}
		if in.Cmd == "FROM" {
			df.Stages = append(df.Stages, nil)
		}
		if len(df.Stages) == 0 { // ARG before the first FROM
			continue
		}
		df.Stages[len(df.Stages)-1] = append(df.Stages[len(df.Stages)-1], in)
	}
	return df, sc.Err()
}

func (d dockerfile) all() []instruction {
	var out []instruction
	for _, s := range d.Stages {
		out = append(out, s...)
	}
	return out
}

var replaceDir = regexp.MustCompile(`=>\s*\.\./([A-Za-z0-9_-]+)\s*$`)

// localReplaces lists the repository modules a module's go.mod replaces
// with a folder ("hlog.dev/proto => ../proto").
func localReplaces(module string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(repoRoot, module, "go.mod"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if m := replaceDir.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			out = append(out, m[1])
		}
	}
	return out, nil
}

// TestDockerfiles checks each service's Dockerfile against its module, its
// binary and its manifests: it builds the module alone with every module it
// replaces copied in, stamps version and commit into the binary (the symbol
// is proven in buildBinary) and into labels, runs as the manifests' user and
// exposes the ports the binary listens on.
func TestDockerfiles(t *testing.T) {
	base := map[string][]object{}
	for _, s := range services {
		base[s.Name] = mustRender(t, filepath.Join("base", s.Name))
	}
	for _, s := range services {
		t.Run(s.Name, func(t *testing.T) {
			path := filepath.Join(repoRoot, s.Module, "Dockerfile")
			df, err := parseDockerfile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(df.Stages) < 2 {
				t.Fatalf("%s: want a multi-stage build (build stage, then a runtime stage without the toolchain); got %d stages", path, len(df.Stages))
			}
			b := buildBinary(t, s)
			all := df.all()
			final := df.Stages[len(df.Stages)-1]

			// Build: the module alone, with its local replacements.
			deps, err := localReplaces(s.Module)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range append(deps, s.Module) {
				want := fmt.Sprintf("%s/ %s/", d, d)
				if !slices.ContainsFunc(all, func(in instruction) bool { return in.Cmd == "COPY" && in.Args == want }) {
					t.Errorf("%s: no `COPY %s`: the module needs %s to build", path, want, d)
				}
			}
			build := ""
			for _, in := range all {
				if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
					build = in.Args
				}
			}
			for _, want := range []string{
				"cd " + s.Module + " ",
				"-X " + stampSymbol + ".Version=${VERSION}",
				"-X " + stampSymbol + ".Commit=${COMMIT}",
				"-o /out/" + s.Name + " " + s.Cmd,
			} {
				if !strings.Contains(build, want) {
					t.Errorf("%s: the go build step lacks %q:\n%s", path, want, build)
				}
			}
			if !slices.ContainsFunc(all, func(in instruction) bool {
				return in.Cmd == "ENV" && strings.Contains(in.Args, "GOWORK=off") && strings.Contains(in.Args, "CGO_ENABLED=0")
			}) {
				t.Errorf("%s: the build must set GOWORK=off and CGO_ENABLED=0, as this test's build does", path)
			}

			// Runtime stage.
			from := final[0].Args
			if s.Name == "ably-svc" {
				if !strings.HasPrefix(from, "debian:") {
					t.Errorf("%s: runtime stage FROM %s; ably-svc runs Debian's chromium", path, from)
				}
				if !slices.ContainsFunc(final, func(in instruction) bool { return in.Cmd == "RUN" && strings.Contains(in.Args, " chromium ") }) {
					t.Errorf("%s: the runtime stage does not install chromium", path)
				}
			} else if !strings.HasPrefix(from, "gcr.io/distroless/") || !strings.HasSuffix(from, ":nonroot") {
				t.Errorf("%s: runtime stage FROM %s, want distroless :nonroot", path, from)
			}
			var args, labels []string
			var user, entrypoint string
			var exposed []int32
			for _, in := range final {
				switch in.Cmd {
				case "ARG":
					name, _, _ := strings.Cut(in.Args, "=")
					args = append(args, name)
				case "LABEL":
					labels = append(labels, in.Args)
					if strings.Contains(in.Args, "${VERSION}") && !slices.Contains(args, "VERSION") ||
						strings.Contains(in.Args, "${COMMIT}") && !slices.Contains(args, "COMMIT") {
						t.Errorf("%s: LABEL uses a build arg not declared in the runtime stage (ARG after FROM): it would be empty", path)
					}
				case "USER":
					user = in.Args
				case "ENTRYPOINT":
					entrypoint = in.Args
				case "EXPOSE":
					for _, p := range strings.Fields(in.Args) {
						n, err := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
						if err != nil {
							t.Errorf("%s: EXPOSE %s", path, p)
						}
						exposed = append(exposed, int32(n))
					}
				}
			}
			label := strings.Join(labels, " ")
			for _, want := range []string{`org.opencontainers.image.version="${VERSION}"`, `org.opencontainers.image.revision="${COMMIT}"`} {
				if !strings.Contains(label, want) {
					t.Errorf("%s: no label %s", path, want)
				}
			}
			if !strings.Contains(entrypoint, `"/usr/local/bin/`+s.Name+`"]`) {
				t.Errorf("%s: ENTRYPOINT %s does not run /usr/local/bin/%s", path, entrypoint, s.Name)
			}
			uid, _, _ := strings.Cut(user, ":")
			for _, d := range ofKind[*appsv1.Deployment](base[s.Name]) {
				sc := d.Spec.Template.Spec.SecurityContext
				if sc == nil || sc.RunAsUser == nil || strconv.FormatInt(*sc.RunAsUser, 10) != uid {
					t.Errorf("%s: USER %q; the Deployment runs as %v: they must agree (runAsNonRoot checks a numeric USER)", path, user, sc)
				}
			}
			defaults := map[string]string{}
			for name, f := range b.Flags {
				defaults[name] = f.Default
			}
			var want []int32
			for _, p := range listenFlags(defaults) {
				want = append(want, p)
			}
			slices.Sort(want)
			slices.Sort(exposed)
			if !slices.Equal(want, exposed) {
				t.Errorf("%s: EXPOSE %v, but the binary listens on %v by default", path, exposed, want)
			}
		})
	}
}

// TestMakeImagesBuildsEveryService: the list in k8s/build-images.sh (what
// `make images` builds) is the list of services.
func TestMakeImagesBuildsEveryService(t *testing.T) {
	b, err := os.ReadFile("build-images.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^services=\(([^)]*)\)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("build-images.sh: no services=(...) line")
	}
	got := strings.Fields(string(m[1]))
	var want []string
	for _, s := range services {
		want = append(want, s.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("make images builds %v, want every service %v", got, want)
	}
	ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ignore), "\n") {
		line = strings.TrimSpace(line)
		for _, s := range services {
			if line == s.Module || line == "proto" || line == "web" || line == "go.work" {
				t.Errorf(".dockerignore drops %s, which the images build from", line)
			}
		}
	}
}
