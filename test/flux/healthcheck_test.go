// Package flux tests the Flux recipe in docs/gitops.md with Flux's own
// code: the healthCheckExprs are read from the page itself, so that the
// page cannot drift from what is tested, and evaluated by fluxcd/pkg's
// runtime/cel, the status reader kustomize-controller builds from a
// Kustomization's healthCheckExprs (cel.NewStatusReader, whose
// StatusEvaluator applies RFC 0009's rules). The objects are the status
// samples the operator's own reconcilers wrote (test/argocd,
// TestStatusSamples), kept in Argo CD's layout under config/argocd because
// Argo CD's tests need them there.
//
// This is a Go module of its own: fluxcd/pkg/runtime would move the
// operator's dependencies, and the operator's reconcilers, which write the
// samples, are tested in the operator's module.
package flux

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/runtime/cel"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

const (
	page    = "../../docs/gitops.md"
	samples = "../../config/argocd/resource_customizations/verification.ordersync.dev"
	group   = "verification.ordersync.dev"
)

// expectations are what Flux reads each sample as with the recipe, and,
// for contrast, what plain kstatus (Flux without healthCheckExprs) reads.
// docs/gitops.md says why each reads as it does.
var expectations = map[string]map[string]struct{ recipe, kstatus status.Status }{
	"VerificationOrder": {
		// No status before the controller's first look: the expressions
		// cannot read status.conditions, and Flux's evaluator returns the
		// error, which its status reader makes Unknown. A Kustomization
		// waits on Unknown as on InProgress; kstatus reads Current.
		"new.yaml": {status.UnknownStatus, status.CurrentStatus},
		// Ready=False, Reconciling=True (Pending), before the first result.
		"pending.yaml":            {status.InProgressStatus, status.InProgressStatus},
		"converged.yaml":          {status.CurrentStatus, status.CurrentStatus},
		"vendor-unavailable.yaml": {status.InProgressStatus, status.InProgressStatus},
		// Ready=True for this generation while a later look is retried
		// (Reconciling=True): where Git wants it, as last observed.
		"converged-vendor-unavailable.yaml": {status.CurrentStatus, status.InProgressStatus},
		"stalled.yaml":                      {status.FailedStatus, status.FailedStatus},
		// Paused once converged: Ready=True stays.
		"paused.yaml": {status.CurrentStatus, status.CurrentStatus},
		// Paused before any result: Ready=Unknown until the annotation goes.
		"paused-new.yaml": {status.InProgressStatus, status.InProgressStatus},
		"deleting.yaml":   {status.InProgressStatus, status.TerminatingStatus},
		// metadata.generation ahead of status.observedGeneration.
		"spec-changed.yaml": {status.InProgressStatus, status.InProgressStatus},
	},
	"VerificationProvider": {
		"new.yaml":   {status.UnknownStatus, status.CurrentStatus},
		"ready.yaml": {status.CurrentStatus, status.CurrentStatus},
		// Missing or unusable credentials, as Argo CD's Degraded: the orders
		// using the provider read Stalled (Failed) meanwhile.
		"secret-not-found.yaml": {status.FailedStatus, status.InProgressStatus},
		"spec-changed.yaml":     {status.InProgressStatus, status.InProgressStatus},
	},
	"ClusterVerificationProvider": {
		"new.yaml":              {status.UnknownStatus, status.CurrentStatus},
		"ready.yaml":            {status.CurrentStatus, status.CurrentStatus},
		"secret-not-found.yaml": {status.FailedStatus, status.InProgressStatus},
		"spec-changed.yaml":     {status.InProgressStatus, status.InProgressStatus},
	},
}

func TestRecipeReadsEverySample(t *testing.T) {
	checks := recipe(t)
	newReader, err := cel.NewStatusReader(checks)
	if err != nil {
		t.Fatalf("kustomize-controller would refuse the Kustomization: %v", err)
	}
	reader := newReader(nil) // reading a given object needs no RESTMapper
	for kind, files := range expectations {
		if !reader.Supports(schema.GroupKind{Group: group, Kind: kind}) {
			t.Errorf("the recipe has no healthCheckExprs for %s", kind)
		}
		for file, want := range files {
			t.Run(kind+"/"+file, func(t *testing.T) {
				obj := sample(t, kind, file)
				got, err := reader.ReadStatusForObject(context.Background(), nil, obj)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != want.recipe {
					t.Errorf("Flux reads %s (%s, error %v), want %s", got.Status, got.Message, got.Error, want.recipe)
				}
				if want.recipe == status.UnknownStatus {
					if got.Error == nil || !strings.Contains(got.Error.Error(), "no such attribute(s): status") {
						t.Errorf("Unknown for another reason than the missing status: %v", got.Error)
					}
					t.Logf("Flux reads Unknown: %v", got.Error)
				}
				plain, err := status.Compute(obj)
				if err != nil {
					t.Fatal(err)
				}
				if plain.Status != want.kstatus {
					t.Errorf("kstatus reads %s (%s), want %s: docs/gitops.md compares the two", plain.Status, plain.Message, want.kstatus)
				}
			})
		}
	}
}

// Every status sample of the operator is read here: a state added to the
// samples must be added to expectations, and to docs/gitops.md.
func TestEverySampleHasAnExpectation(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(samples, "*", "testdata"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no samples under %s: %v", samples, err)
	}
	var missing []string
	for _, dir := range dirs {
		kind := filepath.Base(filepath.Dir(dir))
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, f := range files {
			if _, ok := expectations[kind][filepath.Base(f)]; !ok {
				missing = append(missing, kind+"/testdata/"+filepath.Base(f))
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no expectation for %v", missing)
	}
}

// The two provider kinds report the same conditions, so they must be
// read alike.
func TestProviderKindsReadAlike(t *testing.T) {
	byKind := map[string]kustomize.HealthCheckExpressions{}
	for _, c := range recipe(t) {
		byKind[c.Kind] = c.HealthCheckExpressions
	}
	if byKind["VerificationProvider"] != byKind["ClusterVerificationProvider"] {
		t.Errorf("VerificationProvider %+v, ClusterVerificationProvider %+v", byKind["VerificationProvider"], byKind["ClusterVerificationProvider"])
	}
}

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// recipe is the healthCheckExprs of the one YAML block of docs/gitops.md
// that has them, read as kustomize-controller reads a Kustomization's
// spec: unknown fields (a misspelled inProgress) are an error.
func recipe(t *testing.T) []kustomize.CustomHealthCheck {
	t.Helper()
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	var found []kustomize.CustomHealthCheck
	for _, m := range yamlBlock.FindAllSubmatch(data, -1) {
		if !strings.Contains(string(m[1]), "healthCheckExprs:") {
			continue
		}
		if found != nil {
			t.Fatalf("%s has more than one YAML block with healthCheckExprs", page)
		}
		var ks struct {
			Spec struct {
				Wait             bool                          `json:"wait"`
				HealthCheckExprs []kustomize.CustomHealthCheck `json:"healthCheckExprs"`
			} `json:"spec"`
		}
		if err := yaml.UnmarshalStrict(m[1], &ks); err != nil {
			t.Fatalf("the recipe in %s: %v", page, err)
		}
		if !ks.Spec.Wait {
			t.Errorf("the recipe in %s does not set wait: true, without which Flux checks no health", page)
		}
		found = ks.Spec.HealthCheckExprs
	}
	if len(found) == 0 {
		t.Fatalf("%s has no YAML block with healthCheckExprs", page)
	}
	return found
}

// sample reads one of the operator's status samples as Flux gets objects
// from the API server: decoded as unstructured JSON, whole numbers as
// int64, which the evaluator's own generation check needs.
func sample(t *testing.T, kind, file string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samples, kind, "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	if data, err = yaml.YAMLToJSON(data); err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	return obj
}
