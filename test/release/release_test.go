// Package release tests `make release` (hack/release.mk, docs/release.md)
// the way a user checks a release: it runs a snapshot release, which builds
// for this machine's platform only, in a copy of the work tree, then checks
// that every artifact is there, that checksums.txt names each one with its
// sha256 (and `sha256sum -c` agrees), and what each holds.
//
// `make test-release` runs it, after building the tools the release needs
// into bin/, and `make test` runs that before `go test ./...`: this is a Go
// module of its own so that it runs alone, not beside the other packages,
// since it compiles both binaries with the release's flags (about 3
// minutes of a cold 2-core machine).
package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	// A pre-release, so that the test sees the chart's version lose the v
	// and keep the rest.
	version      = "v1.2.3-rc.1"
	chartVersion = "1.2.3-rc.1"
	module       = "github.com/ordersync/verification-operator"
	image        = "ghcr.io/ordersync/verification-operator"
	downloadURL  = "https://github.com/ordersync/verification-operator/releases/download/" + version + "/"
	chartDir     = "charts/verification-operator"
	kustomizeImg = "config/manager/kustomization.yaml"
)

// binaries are the commands a release archives, each for its platforms; a
// snapshot, for runtime.GOOS/GOARCH only.
var binaries = []string{"manager", "kubectl-verification"}

func TestSnapshotRelease(t *testing.T) {
	// What make release runs besides Go and the tools it builds into bin/.
	for _, tool := range []string{"make", "git", "tar", "gzip", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH, and make release needs it", tool)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	committed := copyWorkTree(t, root, src, chartDir+"/Chart.yaml", kustomizeImg)

	// The tools of the real tree's bin/ (make test-release built them; make
	// builds any that are missing), so that a copy does not rebuild them.
	localbin := os.Getenv("LOCALBIN")
	if localbin == "" {
		localbin = filepath.Join(root, "bin")
	}
	start := time.Now()
	run(t, src, "make", "--no-print-directory", "release-snapshot", "LOCALBIN="+localbin, "SNAPSHOT_VERSION="+version)
	t.Logf("make release-snapshot took %s", time.Since(start).Round(time.Second))
	dist := filepath.Join(src, "dist")

	// A release leaves the committed files as they were: the chart's
	// version is stamped into the package only, and build-installer's
	// image pin is undone.
	for path, want := range committed {
		if got, err := os.ReadFile(filepath.Join(src, path)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("make release changed %s (err %v)", path, err)
		}
	}

	platform := runtime.GOOS + "_" + runtime.GOARCH
	want := make([]string, 0, 4+2*len(binaries))
	want = append(want, "checksums.txt", "install.yaml", "kubectl-verification.krew.yaml", "verification-operator-"+chartVersion+".tgz")
	for _, bin := range binaries {
		archive := bin + "_" + version + "_" + platform + ".tar.gz"
		want = append(want, archive, archive+".sbom.json")
	}
	slices.Sort(want)
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, 0, len(entries))
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("dist/ holds\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	t.Run("checksums", func(t *testing.T) { checkChecksums(t, dist, want) })
	for _, bin := range binaries {
		archive := bin + "_" + version + "_" + platform + ".tar.gz"
		t.Run(archive, func(t *testing.T) { checkArchive(t, root, dist, archive, bin) })
		t.Run(archive+".sbom.json", func(t *testing.T) { checkSBOM(t, filepath.Join(dist, archive+".sbom.json"), bin) })
	}
	t.Run("chart", func(t *testing.T) {
		checkChart(t, filepath.Join(dist, "verification-operator-"+chartVersion+".tgz"), committed[chartDir+"/Chart.yaml"])
	})
	t.Run("install.yaml", func(t *testing.T) { checkInstaller(t, filepath.Join(dist, "install.yaml")) })
	t.Run("krew", func(t *testing.T) { checkKrew(t, dist, platform) })
}

// checksums.txt has a line per other artifact, in sha256sum's format, and
// `sha256sum -c` run in dist/, as docs/release.md tells users to, passes.
func checkChecksums(t *testing.T, dist string, artifacts []string) {
	data, err := os.ReadFile(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
	var listed []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("checksums.txt: %q is not `<sha256>  <file>`", l)
			continue
		}
		listed = append(listed, m[2])
		if sum := sha256File(t, filepath.Join(dist, m[2])); sum != m[1] {
			t.Errorf("checksums.txt: %s has sha256 %s, the file %s", m[2], m[1], sum)
		}
	}
	want := slices.DeleteFunc(slices.Clone(artifacts), func(a string) bool { return a == "checksums.txt" })
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Errorf("checksums.txt lists %v, want every artifact: %v", listed, want)
	}
	run(t, dist, "sha256sum", "--check", "--strict", "checksums.txt")
}

// An archive holds the binary, LICENSE and README.md at its root (krew
// installs every file of it and wants the license among them); the binary
// was built as the release builds: trimpath, no cgo, this platform.
func checkArchive(t *testing.T, root, dist, archive, bin string) {
	exe := bin
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	files := untar(t, filepath.Join(dist, archive))
	names := slices.Sorted(maps.Keys(files))
	want := []string{"LICENSE", "README.md", exe}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("%s holds %v, want %v", archive, names, want)
	}
	license, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files["LICENSE"], license) {
		t.Errorf("%s: LICENSE is not the repository's", archive)
	}
	path := filepath.Join(t.TempDir(), exe)
	if err := os.WriteFile(path, files[exe], 0o755); err != nil {
		t.Fatal(err)
	}
	info := run(t, "", "go", "version", "-m", path)
	for _, want := range []string{
		"path\t" + module + "/cmd/" + bin,
		"build\t-trimpath=true",
		"build\tCGO_ENABLED=0",
		"build\tGOOS=" + runtime.GOOS,
		"build\tGOARCH=" + runtime.GOARCH,
	} {
		if !strings.Contains(info, want) {
			t.Errorf("go version -m %s: no %q in\n%s", exe, want, info)
		}
	}
	// Only the manager has --version (internal/version, stamped through
	// the Makefile's LDFLAGS).
	if bin == "manager" {
		if out := strings.TrimSpace(run(t, "", path, "--version")); out != version {
			t.Errorf("manager --version = %q, want %q", out, version)
		}
	}
}

// The SBOM is CycloneDX, describes this command of the module, built for
// this platform without cgo, and lists the modules linked into it.
func checkSBOM(t *testing.T, path, bin string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Component struct {
				Name       string `json:"name"`
				PURL       string `json:"purl"`
				Properties []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"properties"`
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name string `json:"name"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Fatal(err)
	}
	c := bom.Metadata.Component
	if bom.BOMFormat != "CycloneDX" || c.Name != module || !strings.HasSuffix(c.PURL, "#cmd/"+bin) {
		t.Errorf("SBOM of %s: format %q, component %q (%s), want CycloneDX, %s, #cmd/%s", bin, bom.BOMFormat, c.Name, c.PURL, module, bin)
	}
	props := map[string]string{}
	for _, p := range c.Properties {
		props[p.Name] = p.Value
	}
	for name, want := range map[string]string{"GOOS": runtime.GOOS, "GOARCH": runtime.GOARCH, "CGO_ENABLED": "0"} {
		if got := props["cdx:gomod:build:env:"+name]; got != want {
			t.Errorf("SBOM of %s: %s=%q, want %q, the build's", bin, name, got, want)
		}
	}
	names := make([]string, 0, len(bom.Components))
	for _, comp := range bom.Components {
		names = append(names, comp.Name)
	}
	for _, want := range []string{"k8s.io/client-go", "sigs.k8s.io/controller-runtime", "std"} {
		if !slices.Contains(names, want) {
			t.Errorf("SBOM of %s lists no %s among %v", bin, want, names)
		}
	}
}

// The packaged chart has version and appVersion stamped from VERSION, and
// the committed Chart.yaml's name, type and kubeVersion.
func checkChart(t *testing.T, path string, committed []byte) {
	packaged, fields := topLevelScalars(untar(t, path)["verification-operator/Chart.yaml"]), topLevelScalars(committed)
	if fields["kubeVersion"] == "" {
		t.Error("the committed Chart.yaml declares no kubeVersion")
	}
	want := map[string]string{"version": chartVersion, "appVersion": version}
	for _, key := range []string{"apiVersion", "name", "type", "kubeVersion"} {
		want[key] = fields[key]
	}
	for key, value := range want {
		if packaged[key] != value {
			t.Errorf("the packaged Chart.yaml has %s %q, want %q", key, packaged[key], value)
		}
	}
}

// topLevelScalars returns a YAML mapping's top-level values that fit on
// their line, unquoted: enough for the fields of Chart.yaml compared here,
// without a YAML module.
func topLevelScalars(data []byte) map[string]string {
	fields := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z]+): *(\S.*)$`).FindAllStringSubmatch(string(data), -1) {
		value := m[2]
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		fields[m[1]] = value
	}
	return fields
}

// install.yaml runs the image of VERSION, and no placeholder.
func checkInstaller(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	images := regexp.MustCompile(`(?m)^\s*image: (\S+)$`).FindAllStringSubmatch(string(data), -1)
	if len(images) == 0 {
		t.Fatal("install.yaml names no image")
	}
	for _, m := range images {
		if m[1] != image+":"+version {
			t.Errorf("install.yaml runs image %s, want %s:%s", m[1], image, version)
		}
	}
}

// The krew manifest has the version, and for this platform (a snapshot's
// only one) the archive's download URL and its sha256.
func checkKrew(t *testing.T, dist, platform string) {
	data, err := os.ReadFile(filepath.Join(dist, "kubectl-verification.krew.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := string(data)
	archive := "kubectl-verification_" + version + "_" + platform + ".tar.gz"
	goos, goarch, _ := strings.Cut(platform, "_")
	for _, want := range []string{
		"kind: Plugin\n",
		"  name: verification\n",
		`  version: "` + version + `"` + "\n",
		fmt.Sprintf("matchLabels: {os: %s, arch: %s}\n", goos, goarch),
		`uri: "` + downloadURL + archive + `"` + "\n",
		`sha256: "` + sha256File(t, filepath.Join(dist, archive)) + `"` + "\n",
	} {
		if !strings.Contains(manifest, want) {
			t.Errorf("the krew manifest has no %q:\n%s", strings.TrimSpace(want), manifest)
		}
	}
	if n := strings.Count(manifest, "- selector:"); n != 1 {
		t.Errorf("the snapshot's krew manifest has %d platforms, want 1, the one built", n)
	}
	if strings.Contains(manifest, "{{") || strings.HasPrefix(manifest, "#") {
		t.Errorf("the krew manifest keeps the template's placeholders or comment:\n%s", manifest)
	}
}

// copyWorkTree copies what git would commit from root (tracked files as
// they are in the work tree, and untracked ones git does not ignore) into
// dst, and makes dst a repository of its own with that as its commit:
// cyclonedx-gomod takes the main module's version from git. A copy leaves
// the real tree, which others may be building, alone. It returns the
// contents of keep as copied.
func copyWorkTree(t *testing.T, root, dst string, keep ...string) map[string][]byte {
	list := run(t, root, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for _, rel := range strings.Split(strings.TrimSuffix(list, "\x00"), "\x00") {
		from, to := filepath.Join(root, rel), filepath.Join(dst, rel)
		info, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet in the index
		} else if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if info.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(from)
			if err == nil {
				err = os.Symlink(target, to)
			}
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	kept := map[string][]byte{}
	for _, rel := range keep {
		data, err := os.ReadFile(filepath.Join(dst, rel))
		if err != nil {
			t.Fatal(err)
		}
		kept[rel] = data
	}
	// No hooks, signing or identity of the user's configuration apply.
	git := []string{"git", "-c", "user.name=release test", "-c", "user.email=release-test@example.invalid", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"}
	run(t, dst, append(git, "init", "--quiet")...)
	run(t, dst, append(git, "add", "--all")...)
	run(t, dst, append(git, "commit", "--quiet", "--no-verify", "--message", "snapshot")...)
	return kept
}

// run runs a command in dir and returns its standard output; it fails the
// test with everything the command printed if it fails. make's variables
// of an enclosing make (make test-release) are dropped: the release is
// made as from a shell, with only the variables given here.
func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !slices.Contains([]string{"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}, name) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// untar returns the regular files of a .tar.gz by name.
func untar(t *testing.T, path string) map[string][]byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if files[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
}

func sha256File(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
