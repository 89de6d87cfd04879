package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
	accountchek "github.com/ordersync/verification-operator/providers/accountchek/simulator"
)

// placeholderPrefix marks the ids in config/samples/ that a user (or the
// sandbox) replaces with a real vendor order's id.
const placeholderPrefix = "REPLACE-WITH-"

// loadSamples reads the VerificationOrders in dir's YAML files, in file
// order. The samples' Secrets and VerificationProviders are left out: the
// sandbox makes its own, pointing at the simulators with working credentials
// and a short poll interval.
func loadSamples(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var orders []*unstructured.Unstructured
	for _, f := range files {
		docs, err := readDocuments(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		for _, d := range docs {
			if d.GroupVersionKind() == v1.GroupVersion.WithKind("VerificationOrder") {
				orders = append(orders, d)
			}
		}
	}
	if len(orders) == 0 {
		return nil, fmt.Errorf("no VerificationOrder samples in %s; run from the repo root or pass --repo-root", dir)
	}
	return orders, nil
}

// readDocuments decodes every non-empty document of a YAML stream.
func readDocuments(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var docs []*unstructured.Unstructured
	for {
		obj := map[string]any{}
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return docs, nil
		} else if err != nil {
			return nil, err
		}
		if len(obj) > 0 {
			docs = append(docs, &unstructured.Unstructured{Object: obj})
		}
	}
}

// fillSample points a sample at a freshly seeded vendor order in a state
// that shows what the sample is about, and moves it to namespace sandbox.
// A sample's vendor is its provider's name: the samples name providers
// after their vendor, as the sandbox does.
func fillSample(o *unstructured.Unstructured, vendors []*fixture.Account) error {
	providerName, _, _ := unstructured.NestedString(o.Object, "spec", "providerRef", "name")
	v := vendorByName(vendors, providerName)
	if v == nil {
		return fmt.Errorf("sample %s: providerRef %q is not a sandbox vendor", o.GetName(), providerName)
	}
	o.SetNamespace(namespace)
	if id, _, _ := unstructured.NestedString(o.Object, "spec", "orderID"); strings.HasPrefix(id, placeholderPrefix) {
		state, _, _ := unstructured.NestedString(o.Object, "spec", "state")
		id, err := seedOrder(v, seedStateFor(v, state))
		if err != nil {
			return err
		}
		return unstructured.SetNestedField(o.Object, id, "spec", "orderID")
	}
	if _, found, _ := unstructured.NestedMap(o.Object, "spec", "reverification"); found {
		return fillReverification(o, v)
	}
	return nil
}

// seedStateFor is the vendor state a sample's order starts in: one the
// desired state can be reached from. Cancel, ObserveOnly (which then plans
// a Cancel), paused and "cancel on delete" samples want an order that can
// still be canceled; an unsupported close too, so that the only thing in the
// way is the vendor's lack of a close. AccountChek's close starts from
// inprogress, where a close is accepted but a cancel is not.
func seedStateFor(v *fixture.Account, desired string) string {
	if desired == string(v1.DesiredClosed) && v.Name == string(v1.VendorAccountChek) {
		return accountchek.StateInProgress
	}
	return v.Cancelable
}

// reverifiable is the part of the Truework simulator a reverification
// sample needs: a completed request's id and its report's id.
type reverifiable interface {
	RequestIDs(orderID string) []string
	ReportID(requestID string) string
}

// fillReverification seeds a completed Truework order and names its request
// (a request id, not the order id) and report.
func fillReverification(o *unstructured.Unstructured, v *fixture.Account) error {
	sim, ok := v.Sim.(reverifiable)
	if !ok {
		return fmt.Errorf("sample %s: the %s simulator cannot seed a reverification", o.GetName(), v.Name)
	}
	orderID, err := seedOrder(v, v.Completed)
	if err != nil {
		return err
	}
	requests := sim.RequestIDs(orderID)
	if len(requests) == 0 {
		return fmt.Errorf("sample %s: seeded %s order %s has no request", o.GetName(), v.Name, orderID)
	}
	fields := map[string]string{"verificationRequestID": requests[0], "reportID": sim.ReportID(requests[0])}
	for field, value := range fields {
		old, _, _ := unstructured.NestedString(o.Object, "spec", "reverification", field)
		if strings.HasPrefix(old, placeholderPrefix) {
			if err := unstructured.SetNestedField(o.Object, value, "spec", "reverification", field); err != nil {
				return err
			}
		}
	}
	return nil
}

// applySamples fills and creates every sample VerificationOrder.
func applySamples(ctx context.Context, c client.Client, samplesDir string, vendors []*fixture.Account) ([]string, error) {
	samples, err := loadSamples(samplesDir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(samples))
	for _, o := range samples {
		if err := fillSample(o, vendors); err != nil {
			return nil, err
		}
		if err := c.Create(ctx, o); err != nil {
			return nil, fmt.Errorf("apply sample %s: %w", o.GetName(), err)
		}
		names = append(names, o.GetName())
	}
	return names, nil
}
