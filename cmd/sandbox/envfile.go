package main

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/ordersync/verification-operator/internal/fixture"
)

// envFile is .sandbox/env.json, the sandbox's contract with scripts and the
// e2e suite (docs/sandbox.md). Its presence means "everything is up".
type envFile struct {
	Kubeconfig string                   `json:"kubeconfig"`
	Namespace  string                   `json:"namespace"`
	Vendors    map[string]envFileVendor `json:"vendors"`
	// Receiver is the operator's webhook receiver (https, a self-signed
	// certificate); a provider takes deliveries at Receiver plus its
	// status.webhook.path.
	Receiver string `json:"receiver"`
}

type envFileVendor struct {
	URL string `json:"url"`
}

func newEnvFile(kubeconfig, receiver string, vendors []*fixture.Account) envFile {
	env := envFile{Kubeconfig: kubeconfig, Namespace: namespace, Vendors: map[string]envFileVendor{}, Receiver: receiver}
	for _, v := range vendors {
		env.Vendors[v.Name] = envFileVendor{URL: v.URL}
	}
	return env
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// polling for the file never sees half of it.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'), 0o644)
}
