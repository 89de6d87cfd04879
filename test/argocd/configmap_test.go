package argocd

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// configMap is the argocd-cm patch docs/gitops.md tells users to apply. It
// is written from the scripts, so that what users install is what
// TestHealthScripts and TestActions ran:
//
//	go test ./test/argocd -run TestArgoCDConfigMap -update
const configMap = "../../config/argocd/argocd-cm.yaml"

const configMapHeader = `# Argo CD's health checks and actions for the operator's kinds, as argocd-cm
# keys (docs/gitops.md):
#   kubectl -n argocd patch configmap argocd-cm --patch-file config/argocd/argocd-cm.yaml
# Written from resource_customizations/ by test/argocd:
#   go test ./test/argocd -run TestArgoCDConfigMap -update
`

func TestArgoCDConfigMap(t *testing.T) {
	got := renderConfigMap(t)
	if *update {
		if err := os.WriteFile(configMap, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := []byte(readFile(t, configMap)); !bytes.Equal(got, want) {
		t.Errorf("%s differs from the scripts; run go test ./test/argocd -run TestArgoCDConfigMap -update.\ngot:\n%s", configMap, got)
	}
}

// renderConfigMap is argocd-cm's data for every kind's health.lua and
// actions, keyed as Argo CD reads them: resource.customizations.health.
// <group>_<kind>, and resource.customizations.actions.<group>_<kind>
// holding discovery.lua and a definition per action.
func renderConfigMap(t *testing.T) []byte {
	t.Helper()
	data := map[string]string{}
	for _, dir := range kindDirs(t) {
		key := group + "_" + filepath.Base(dir)
		data["resource.customizations.health."+key] = readFile(t, filepath.Join(dir, "health.lua"))
		discovery := filepath.Join(dir, "actions", "discovery.lua")
		if _, err := os.Stat(discovery); err != nil {
			continue
		}
		type definition struct {
			Name      string `json:"name"`
			ActionLua string `json:"action.lua"`
		}
		actions := struct {
			DiscoveryLua string       `json:"discovery.lua"`
			Definitions  []definition `json:"definitions"`
		}{DiscoveryLua: readFile(t, discovery)}
		scripts, _ := filepath.Glob(filepath.Join(dir, "actions", "*", "action.lua"))
		for _, s := range scripts {
			actions.Definitions = append(actions.Definitions, definition{Name: filepath.Base(filepath.Dir(s)), ActionLua: readFile(t, s)})
		}
		value, err := yaml.Marshal(actions)
		if err != nil {
			t.Fatal(err)
		}
		data["resource.customizations.actions."+key] = string(value)
	}
	out, err := yaml.Marshal(map[string]any{"data": data})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(configMapHeader), out...)
}
