package v1alpha1_test

import (
	"os"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// `kubectl get vo -o wide` shows the planned action (status.plannedAction)
// in a PLAN column; plain `kubectl get vo` keeps its width.
func TestOrdersShowTheirPlanInWideOutput(t *testing.T) {
	raw, err := os.ReadFile("../../config/crd/bases/verification.ordersync.dev_verificationorders.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatal(err)
	}
	for _, v := range crd.Spec.Versions {
		for _, c := range v.AdditionalPrinterColumns {
			if c.Name == "Plan" {
				if c.JSONPath != ".status.plannedAction" || c.Priority != 1 {
					t.Errorf("%s: PLAN column %+v, want .status.plannedAction at priority 1 (-o wide)", v.Name, c)
				}
				return
			}
		}
	}
	t.Error("the VerificationOrder CRD has no PLAN column")
}
