// Package argocd runs the Argo CD resource customizations in
// config/argocd/resource_customizations as Argo CD runs them: each
// health.lua on the inputs its health_test.yaml names, each action on the
// inputs its action_test.yaml names, in the layout and the test formats of
// Argo CD's own resource_customizations/, and in Argo CD's Lua VM, whose
// library restrictions argocdVM copies. Argo CD itself is not imported: its
// module needs dependencies the operator's must not take.
package argocd

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

const (
	customizations      = "../../config/argocd/resource_customizations"
	group               = "verification.ordersync.dev"
	orderKind           = "VerificationOrder"
	providerKind        = "VerificationProvider"
	clusterProviderKind = "ClusterVerificationProvider"
)

// kindDir is where Argo CD looks for kind's scripts: <group>/<kind>.
func kindDir(kind string) string { return filepath.Join(customizations, group, kind) }

// argocdVM is Argo CD's Lua VM, as util/lua/lua.go in argoproj/argo-cd
// (VM.runLuaWithResourceActionParameters) builds it:
//
//   - openLibs false (a script from argocd-cm, unless
//     resource.customizations.useOpenLibs.<group_kind> is "true", and every
//     action): gopher-lua opens no library, then Argo CD opens only
//     package, base and table, and its "safe" os (time and date) which, as
//     Argo CD's OpenSafeOs registers it, lands in table, not in a global os:
//     a script reaches it with `local os = require("os")`, as every
//     built-in action of Argo CD does. No string, math, io, os, debug,
//     coroutine or channel.
//   - openLibs true (a built-in script, once contributed to Argo CD's
//     resource_customizations; Argo CD's health_test.go runs them so):
//     every gopher-lua library, then the same four.
//
// The global obj is the object (numbers as Lua numbers), actionParams an
// empty table, and the script has one second (Argo CD's context timeout).
type argocdVM struct{ openLibs bool }

func (vm argocdVM) run(obj map[string]any, script string) (any, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: !vm.openLibs})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openSafeOs},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return nil, err
		}
	}
	l.PreloadModule(lua.OsLibName, safeOsLoader)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("actionParams", l.CreateTable(0, 0))
	l.SetGlobal("obj", decodeValue(l, obj))
	if err := l.DoString(script); err != nil {
		return nil, err
	}
	return encodeValue(l.Get(-1))
}

// safeOs are the two os functions Argo CD lets scripts use. Argo CD's
// oslib_safe.go copies them from gopher-lua; these are gopher-lua's.
var safeOs = func() map[string]lua.LGFunction {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	lua.OpenOs(l)
	os := l.GetGlobal(lua.OsLibName).(*lua.LTable)
	funcs := map[string]lua.LGFunction{}
	for _, name := range []string{"time", "date"} {
		funcs[name] = os.RawGetString(name).(*lua.LFunction).GFunction
	}
	return funcs
}()

// openSafeOs is Argo CD's OpenSafeOs, which registers the safe os under
// lua.TabLibName.
func openSafeOs(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.TabLibName, safeOs))
	return 1
}

func safeOsLoader(l *lua.LState) int {
	l.Push(l.SetFuncs(l.NewTable(), safeOs))
	return 1
}

// decodeValue is Argo CD's decodeValue: the object as Lua values.
func decodeValue(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(decodeValue(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetH(lua.LString(key), decodeValue(l, item))
		}
		return t
	}
	return lua.LNil
}

// encodeValue is what Argo CD makes of a script's result: it encodes it
// as JSON with layeh.com/gopher-json, which makes a table whose keys run
// 1, 2, ... an array, any other table an object, and an empty one null.
func encodeValue(value lua.LValue) (any, error) {
	switch v := value.(type) {
	case lua.LBool:
		return bool(v), nil
	case lua.LNumber:
		return float64(v), nil
	case lua.LString:
		return string(v), nil
	case *lua.LNilType:
		return nil, nil
	case *lua.LTable:
		var arr []any
		var obj map[string]any
		var err error
		v.ForEach(func(key, item lua.LValue) {
			value, e := encodeValue(item)
			if e != nil {
				err = e
				return
			}
			if i, ok := key.(lua.LNumber); ok && obj == nil && int(i) == len(arr)+1 {
				arr = append(arr, value)
				return
			}
			if obj == nil {
				obj = map[string]any{}
				for i, a := range arr {
					obj[lua.LNumber(i+1).String()] = a
				}
			}
			obj[key.String()] = value
		})
		if obj != nil {
			return obj, err
		}
		if arr == nil {
			return nil, err
		}
		return arr, err
	}
	return nil, errors.New("cannot encode " + value.Type().String() + " to JSON")
}

// healthStatus is Argo CD's health.HealthStatus as health_test.yaml
// states it.
type healthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// health is Argo CD's VM.ExecuteHealthLua: the table the script returned,
// as a health status; a status Argo CD does not know reads Unknown.
func (vm argocdVM) health(obj map[string]any, script string) (healthStatus, error) {
	result, err := vm.run(obj, script)
	if err != nil {
		return healthStatus{}, err
	}
	table, ok := result.(map[string]any)
	if !ok && result != nil {
		return healthStatus{}, errors.New("expect table output from Lua script")
	}
	var hs healthStatus
	data, _ := json.Marshal(table)
	if err := json.Unmarshal(data, &hs); err != nil {
		return healthStatus{}, err
	}
	switch hs.Status {
	case "Unknown", "Progressing", "Suspended", "Healthy", "Degraded", "Missing":
		return hs, nil
	}
	return healthStatus{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
}

// TestHealthScripts is Argo CD's TestLuaHealthScript
// (util/lua/health_test.go): every health.lua, on each input its
// health_test.yaml names, must return exactly the status and message
// stated, in the VM of a script installed through argocd-cm and in that of
// a built-in one.
func TestHealthScripts(t *testing.T) {
	for _, dir := range kindDirs(t) {
		script := readFile(t, filepath.Join(dir, "health.lua"))
		var spec struct {
			Tests []struct {
				InputPath    string       `json:"inputPath"`
				HealthStatus healthStatus `json:"healthStatus"`
			} `json:"tests"`
		}
		readYAML(t, filepath.Join(dir, "health_test.yaml"), &spec)
		if len(spec.Tests) == 0 {
			t.Errorf("%s/health_test.yaml has no tests", dir)
		}
		for _, test := range spec.Tests {
			for _, vm := range vms {
				t.Run(filepath.Base(dir)+"/"+test.InputPath+"/"+vm.name, func(t *testing.T) {
					got, err := vm.health(readObject(t, filepath.Join(dir, test.InputPath)), script)
					if err != nil {
						t.Fatal(err)
					}
					if got != test.HealthStatus {
						t.Errorf("health %+v, want %+v", got, test.HealthStatus)
					}
				})
			}
		}
	}
}

// vms are the two VMs a health script may run in.
var vms = []struct {
	name string
	argocdVM
}{
	{"argocd-cm", argocdVM{openLibs: false}},
	{"built-in", argocdVM{openLibs: true}},
}

// TestActions is Argo CD's TestLuaResourceActionsScript
// (util/lua/custom_actions_test.go): each kind's actions/discovery.lua
// must offer exactly the actions each discoveryTests entry states, and
// each actions/<name>/action.lua must turn its input into its expected
// output, both in the VM Argo CD runs actions in (no open libraries).
// The refresh annotation holds the time, which Argo CD's own test
// normalizes the same way for the annotations of Flux's kinds.
func TestActions(t *testing.T) {
	vm := argocdVM{openLibs: false}
	for _, dir := range kindDirs(t) {
		actions := filepath.Join(dir, "actions")
		if _, err := os.Stat(actions); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var spec struct {
			DiscoveryTests []struct {
				InputPath string `json:"inputPath"`
				Result    []struct {
					Name     string `json:"name"`
					Disabled bool   `json:"disabled,omitempty"`
				} `json:"result"`
			} `json:"discoveryTests"`
			ActionTests []struct {
				Action             string `json:"action"`
				InputPath          string `json:"inputPath"`
				ExpectedOutputPath string `json:"expectedOutputPath"`
			} `json:"actionTests"`
		}
		readYAML(t, filepath.Join(actions, "action_test.yaml"), &spec)
		discovery := readFile(t, filepath.Join(actions, "discovery.lua"))
		for _, test := range spec.DiscoveryTests {
			t.Run(filepath.Base(dir)+"/discovery/"+test.InputPath, func(t *testing.T) {
				result, err := vm.run(readObject(t, filepath.Join(actions, test.InputPath)), discovery)
				if err != nil {
					t.Fatal(err)
				}
				offered, _ := result.(map[string]any)
				var got, want []string
				for name, a := range offered {
					settings, _ := a.(map[string]any)
					disabled, _ := settings["disabled"].(bool)
					got = append(got, name+map[bool]string{true: " (disabled)"}[disabled])
				}
				for _, a := range test.Result {
					want = append(want, a.Name+map[bool]string{true: " (disabled)"}[a.Disabled])
				}
				sort.Strings(got)
				sort.Strings(want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("actions offered %q, want %q", got, want)
				}
			})
		}
		for _, test := range spec.ActionTests {
			t.Run(filepath.Base(dir)+"/actions/"+test.Action+"/"+test.InputPath, func(t *testing.T) {
				script := readFile(t, filepath.Join(actions, test.Action, "action.lua"))
				got, err := vm.run(readObject(t, filepath.Join(actions, test.InputPath)), script)
				if err != nil {
					t.Fatal(err)
				}
				normalizeRefresh(t, got)
				want := readObject(t, filepath.Join(actions, test.ExpectedOutputPath))
				if !reflect.DeepEqual(got, any(want)) {
					gotYAML, _ := yaml.Marshal(got)
					wantYAML, _ := yaml.Marshal(want)
					t.Errorf("action %s returned\n%s\nwant\n%s", test.Action, gotYAML, wantYAML)
				}
			})
		}
	}
}

const (
	// refreshAnnotation is the annotation the refresh action sets.
	refreshAnnotation = "verification.ordersync.dev/refresh"
	// zeroTime stands for the time the refresh action set.
	zeroTime = "0001-01-01T00:00:00Z"
)

// normalizeRefresh checks that the refresh annotation of obj, if any, is a
// UTC time, then replaces it with the zero time the expected outputs hold.
func normalizeRefresh(t *testing.T, obj any) {
	t.Helper()
	meta, _ := obj.(map[string]any)["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	value, ok := annotations[refreshAnnotation].(string)
	if !ok {
		return
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", value); err != nil {
		t.Errorf("%s is %q, not a UTC time: %v", refreshAnnotation, value, err)
	}
	annotations[refreshAnnotation] = zeroTime
}

// TestLayout: each kind has what Argo CD's resource_customizations needs
// (health.lua, health_test.yaml), and every file in its testdata/ and
// actions/testdata/ is a sample the operator's reconcilers wrote
// (TestStatusSamples) and the input or expected output of some test.
func TestLayout(t *testing.T) {
	generated := map[string]bool{}
	for _, s := range samples {
		generated[filepath.Join(kindDir(s.kind), s.path)] = true
	}
	dirs := kindDirs(t)
	names := make([]string, 0, len(dirs))
	for _, dir := range dirs {
		names = append(names, filepath.Base(dir))
		used := map[string]bool{}
		for _, spec := range []string{"health_test.yaml", "actions/action_test.yaml"} {
			data, err := os.ReadFile(filepath.Join(dir, spec))
			if errors.Is(err, fs.ErrNotExist) && spec != "health_test.yaml" {
				continue
			} else if err != nil {
				t.Error(err)
				continue
			}
			for _, line := range strings.Split(string(data), "\n") {
				if _, path, ok := strings.Cut(line, "Path: "); ok {
					used[filepath.Join(dir, filepath.Dir(spec), strings.TrimSpace(path))] = true
				}
			}
		}
		for _, pattern := range []string{"testdata/*.yaml", "actions/testdata/*.yaml"} {
			files, _ := filepath.Glob(filepath.Join(dir, pattern))
			for _, f := range files {
				if !used[f] {
					t.Errorf("%s is in no test", f)
				}
				if !generated[f] {
					t.Errorf("%s is no sample of TestStatusSamples: the tests would read what the operator never wrote", f)
				}
			}
		}
	}
	if want := []string{clusterProviderKind, orderKind, providerKind}; !reflect.DeepEqual(names, want) {
		t.Errorf("kinds %v, want %v", names, want)
	}
}

// kindDirs are the kinds that have a health.lua, sorted.
func kindDirs(t *testing.T) []string {
	t.Helper()
	scripts, err := filepath.Glob(filepath.Join(customizations, group, "*", "health.lua"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no health.lua under %s/%s: %v", customizations, group, err)
	}
	dirs := make([]string, 0, len(scripts))
	for _, s := range scripts {
		dirs = append(dirs, filepath.Dir(s))
	}
	return dirs
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(readFile(t, path)), into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readObject reads a testdata file as Argo CD's tests do (getObj).
func readObject(t *testing.T, path string) map[string]any {
	t.Helper()
	obj := map[string]any{}
	readYAML(t, path, &obj)
	return obj
}
