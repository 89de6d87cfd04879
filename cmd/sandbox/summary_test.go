package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The summary and env.json say where the webhook receiver is, so that a
// person or a script can reach it (docs/webhooks.md) without reading the
// sandbox's logs.
func TestTheReceiverIsNamed(t *testing.T) {
	const receiver = "https://127.0.0.1:40001"
	vendors := testVendors(t)

	var out bytes.Buffer
	summary{Receiver: receiver, Vendors: vendors, Kubeconfig: ".sandbox/kubeconfig", EnvFile: ".sandbox/env.json"}.print(&out)
	if want := receiver + "/hooks/" + namespace + "/<provider>"; !strings.Contains(out.String(), want) {
		t.Errorf("the summary does not name the receiver %q:\n%s", want, out.String())
	}

	data, err := json.Marshal(newEnvFile(".sandbox/kubeconfig", receiver, vendors))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	if env["receiver"] != receiver {
		t.Errorf("env.json's receiver is %v, want %q: %s", env["receiver"], receiver, data)
	}
}
