// Package argocd tests the Argo CD resource customizations in
// config/argocd with gopher-lua, the interpreter Argo CD itself runs them in.
package argocd

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

const dir = "../../config/argocd/resource_customizations/verification.ordersync.dev"

// run evaluates script with the global obj set to the object in manifest,
// as Argo CD does, and returns what the script returned.
func run(t *testing.T, script, manifest string) *lua.LTable {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(manifest), &obj); err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoFile(filepath.Join(dir, script)); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("%s returned %v, not a table", script, L.Get(-1))
	}
	return ret
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}

// The conditions below are shaped exactly as controllers/outcome.go writes
// them (setConditions): Ready and Synced always, Reconciling and Stalled
// only while True.
func TestVerificationOrderHealth(t *testing.T) {
	cases := []struct {
		name, manifest, status, message string
	}{
		{"converged", order(2, 2, "", cond("Ready", "True", "Converged", "The order is canceled at truework."), cond("Synced", "True", "Synced", "ok")),
			"Healthy", "Converged"},
		{"canceling", order(2, 2, "", cond("Ready", "False", "Canceling", "canceling it"), cond("Synced", "True", "Synced", "ok"), cond("Reconciling", "True", "Canceling", "canceling it")),
			"Progressing", "Canceling"},
		{"vendor down", order(1, 1, "", cond("Ready", "Unknown", "VendorUnavailable", "retrying"), cond("Synced", "False", "VendorUnavailable", "retrying"), cond("Reconciling", "True", "VendorUnavailable", "retrying")),
			"Progressing", "VendorUnavailable"},
		{"already terminal", order(1, 1, "", cond("Ready", "False", "AlreadyTerminal", "completed first"), cond("Synced", "True", "Synced", "ok"), cond("Stalled", "True", "AlreadyTerminal", "completed first")),
			"Degraded", "AlreadyTerminal: completed first"},
		{"credentials rejected", order(1, 1, "", cond("Ready", "False", "CredentialsRejected", "fix the Secret"), cond("Synced", "False", "CredentialsRejected", "fix the Secret"), cond("Stalled", "True", "CredentialsRejected", "fix the Secret")),
			"Degraded", "CredentialsRejected"},
		{"paused", order(1, 1, "true", cond("Ready", "Unknown", "Paused", "paused"), cond("Synced", "False", "Paused", "paused")),
			"Suspended", "Paused"},
		{"a spec change not yet seen", order(3, 2, "", cond("Ready", "True", "Converged", "active"), cond("Synced", "True", "Synced", "ok")),
			"Progressing", "this generation"},
		{"never looked at", "apiVersion: verification.ordersync.dev/v1alpha1\nkind: VerificationOrder\nmetadata: {name: o, generation: 1}\nspec: {orderID: x}\n",
			"Progressing", "controller"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := run(t, "VerificationOrder/health.lua", c.manifest)
			if got := hs.RawGetString("status").String(); got != c.status {
				t.Errorf("status %s, want %s (message %q)", got, c.status, hs.RawGetString("message"))
			}
			if got := hs.RawGetString("message").String(); !strings.Contains(got, c.message) {
				t.Errorf("message %q, want it to contain %q", got, c.message)
			}
		})
	}
}

func TestProviderHealth(t *testing.T) {
	for _, kind := range []string{"VerificationProvider", "ClusterVerificationProvider"} {
		ready := "apiVersion: verification.ordersync.dev/v1alpha1\nkind: " + kind + "\nmetadata: {name: p, generation: 1}\nstatus:\n  observedGeneration: 1\n  conditions:\n" + cond("Ready", "True", "CredentialsValid", "well-formed")
		missing := strings.ReplaceAll(ready, cond("Ready", "True", "CredentialsValid", "well-formed"), cond("Ready", "False", "SecretNotFound", "create it"))
		for manifest, want := range map[string]string{ready: "Healthy", missing: "Degraded"} {
			if got := run(t, kind+"/health.lua", manifest).RawGetString("status").String(); got != want {
				t.Errorf("%s: status %s, want %s", kind, got, want)
			}
		}
	}
}

func TestRefreshAction(t *testing.T) {
	discovered := run(t, "VerificationOrder/actions/discovery.lua", order(1, 1, ""))
	if discovered.RawGetString("refresh") == lua.LNil {
		t.Fatal("discovery offers no refresh action")
	}
	obj := run(t, "VerificationOrder/actions/refresh/action.lua", order(1, 1, ""))
	meta := obj.RawGetString("metadata").(*lua.LTable)
	annotations, ok := meta.RawGetString("annotations").(*lua.LTable)
	if !ok || annotations.RawGetString("verification.ordersync.dev/refresh").String() == "" {
		t.Error("refresh set no annotation: nothing would trigger a reconcile")
	}
}

func order(generation, observed int, paused string, conditions ...string) string {
	annotations := ""
	if paused != "" {
		annotations = ", annotations: {verification.ordersync.dev/paused: \"" + paused + "\"}"
	}
	return "apiVersion: verification.ordersync.dev/v1alpha1\nkind: VerificationOrder\n" +
		"metadata: {name: o, generation: " + itoa(generation) + annotations + "}\n" +
		"spec: {orderID: x}\nstatus:\n  observedGeneration: " + itoa(observed) + "\n  conditions:\n" + strings.Join(conditions, "")
}

func cond(typ, status, reason, message string) string {
	return "  - {type: " + typ + ", status: \"" + status + "\", reason: " + reason + ", message: \"" + message + "\"}\n"
}

func itoa(i int) string { return strconv.Itoa(i) }

// The scripts must exist where Argo CD's resource_customizations expect them.
func TestLayout(t *testing.T) {
	for _, f := range []string{"VerificationOrder/health.lua", "VerificationProvider/health.lua", "ClusterVerificationProvider/health.lua", "VerificationOrder/actions/discovery.lua", "VerificationOrder/actions/refresh/action.lua"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
