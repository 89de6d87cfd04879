// Package manifests reads the Kubernetes objects in a file or a directory
// of YAML or JSON files, as `kubectl apply -f` does, and tells the
// VerificationOrders apart from the rest.
package manifests

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// Document is one object from a file.
type Document struct {
	// Source is where it was read: the file, and the document's index in
	// it when the file holds several ("orders.yaml#2").
	Source string
	Object *unstructured.Unstructured
}

// IsVerificationOrder reports whether the document is a VerificationOrder
// of any version of the operator's group; the API server answers for the
// version.
func (d Document) IsVerificationOrder() bool {
	gvk := d.Object.GroupVersionKind()
	return gvk.Group == v1.GroupVersion.Group && gvk.Kind == "VerificationOrder"
}

// Describe names the document for a person, e.g. "ConfigMap/settings".
func (d Document) Describe() string {
	return d.Object.GetKind() + "/" + d.Object.GetName()
}

// extensions are the files a directory is read for, as kubectl reads them.
var extensions = []string{".yaml", ".yml", ".json"}

// Load reads every document in path: a file, or each .yaml, .yml and .json
// file directly in a directory (not below it), in name order.
func Load(path string) ([]Document, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return loadFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var docs []Document
	for _, e := range entries {
		if e.IsDir() || !slices.Contains(extensions, strings.ToLower(filepath.Ext(e.Name()))) {
			continue
		}
		more, err := loadFile(filepath.Join(path, e.Name()))
		if err != nil {
			return nil, err
		}
		docs = append(docs, more...)
	}
	return docs, nil
}

// Read splits r, named source in messages, into its documents.
func Read(r io.Reader, source string) ([]Document, error) {
	dec := yaml.NewYAMLOrJSONDecoder(r, 4096)
	var objects []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, len(objects)+1, err)
		}
		if len(obj) == 0 {
			continue // an empty document: a leading ---, only comments
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("%s: document %d has no apiVersion or kind", source, len(objects)+1)
		}
		objects = append(objects, u)
	}
	docs := make([]Document, 0, len(objects))
	for i, u := range objects {
		name := source
		if len(objects) > 1 {
			name = fmt.Sprintf("%s#%d", source, i+1)
		}
		docs = append(docs, Document{Source: name, Object: u})
	}
	return docs, nil
}

func loadFile(path string) ([]Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return Read(f, path)
}
