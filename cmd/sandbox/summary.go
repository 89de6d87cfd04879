package main

import (
	"fmt"
	"io"

	"github.com/ordersync/verification-operator/internal/fixture"
)

// summary is what the sandbox prints once everything is up: what runs
// where, and a few things to try, with real URLs and ids filled in.
type summary struct {
	APIServer    string
	Kubeconfig   string
	EnvFile      string
	Receiver     string // the operator's webhook receiver, https://host:port
	Vendors      []*fixture.Account
	Samples      []string
	Extra        map[string]string // extra VerificationOrder name → vendor order id
	PollInterval string
}

func (s summary) print(w io.Writer) {
	kubectl := "kubectl --kubeconfig " + s.Kubeconfig
	truework, truv, accountchek := s.vendor("truework"), s.vendor("truv"), s.vendor("accountchek")
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	p("")
	p("=== verification-operator sandbox is up ===")
	p("")
	p("Kubernetes API  %s  (etcd + kube-apiserver, local, throwaway)", s.APIServer)
	p("Operator        running in this process; providers poll every %s", s.PollInterval)
	for _, v := range s.Vendors {
		p("%-15s %s  (admin API: %s/_sandbox/)", v.Name, v.Endpoint(), v.URL)
	}
	p("Webhooks        %s/hooks/%s/<provider>  (the operator's receiver, a self-signed certificate; the simulators push to it)", s.Receiver, namespace)
	p("Kubeconfig      %s", s.Kubeconfig)
	p("Env file        %s", s.EnvFile)
	p("Namespace       %s: a VerificationProvider and Secret per vendor, %d samples from config/samples/, %d more orders", namespace, len(s.Samples), len(s.Extra))
	p("")
	p("See every order:")
	p("  %s get vo -n %s", kubectl, namespace)
	p("")
	p("Things to try (docs/sandbox.md explains each):")
	p("")
	p("1. Move an order at the vendor, as the borrower would, and watch status follow within seconds:")
	p("  curl -s -X POST %s/_sandbox/orders/%s/state -d '{\"state\": \"%s\"}'", truework.URL, s.Extra["truework-open"], truework.Completed)
	p("  %s get vo truework-open -n %s -w", kubectl, namespace)
	p("")
	p("2. Make Truv flaky, watch the operator back off and retry, then look at the calls it made:")
	p("  curl -s -X PUT %s/_sandbox/faults -d '{\"rate\": 0.5, \"statuses\": [429, 503], \"retryAfterSeconds\": 1}'", truv.URL)
	p("  curl -s -X POST %s/_sandbox/orders/%s/state -d '{\"state\": \"%s\"}'", truv.URL, s.Extra["truv-open"], truv.Completed)
	p("  curl -s %s/_sandbox/stats", truv.URL)
	p("  curl -s -X PUT %s/_sandbox/faults -d '{\"rate\": 0}'", truv.URL)
	p("")
	p("3. Unpause txcloud-paused; the operator then cancels it:")
	p("  %s annotate vo txcloud-paused -n %s verification.ordersync.dev/paused-", kubectl, namespace)
	p("")
	p("4. Create an order at AccountChek and cancel it with a VerificationOrder of your own:")
	p("  ID=$(curl -s -X POST %s/_sandbox/orders -d '{\"state\": \"%s\"}' | sed -E 's/.*\"id\": *\"([^\"]+)\".*/\\1/')", accountchek.URL, accountchek.Cancelable)
	// The here-document starts at column 0 so that it pastes into a shell.
	p("  %s apply -n %s -f - <<EOF", kubectl, namespace)
	p("apiVersion: verification.ordersync.dev/v1alpha1")
	p("kind: VerificationOrder")
	p("metadata: {name: my-cancel}")
	p("spec: {providerRef: {name: accountchek}, orderID: \"$ID\", state: canceled}")
	p("EOF")
	p("  %s wait vo/my-cancel -n %s --for=condition=Ready", kubectl, namespace)
	p("  curl -s %s/_sandbox/orders/$ID    # state canceled, exactly one PATCH in calls", accountchek.URL)
	p("")
	p("Ctrl-C stops everything (control plane, simulators, operator) and removes %s.", s.EnvFile)
	p("")
}

func (s summary) vendor(name string) *fixture.Account {
	if v := vendorByName(s.Vendors, name); v != nil {
		return v
	}
	return &fixture.Account{}
}
