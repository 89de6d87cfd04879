package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ordersync/verification-operator/providers"
)

// Shape is one of the vendor's documented responses, which the simulator's
// own answer to a client call must match: the same keys at every level,
// and at each key the same JSON type. Values are not compared. A simulator
// that renames, drops, adds or retypes a field fails.
type Shape struct {
	// File is the documented example under testdata/ (its README names the
	// source).
	File string
	// State is the vendor state the order is created in; Setup, when set,
	// makes the order instead; neither: the call names Adapter.UnknownID.
	State string
	Setup func(sim Sim) (string, error)
	// Call is the client call whose answer is compared (Observe, Cancel,
	// Close of the order).
	Call func(id string) func(context.Context, providers.Client) (providers.Observation, error)
	// Method picks the answer compared: the last one to a request with
	// this method (a client may read before or after it mutates).
	Method string
	// Status is the answer's expected HTTP status.
	Status int
	// Nullable are the fields the vendor's reference documents as "T or
	// null", by path ("employers[].canceled_at"), with T ("string",
	// "number", "bool", "object", "array"). Elsewhere a documented null
	// must be served as null, and a documented value as that type.
	Nullable map[string]string
}

// checkShapes: each documented shape against the simulator's answer.
func checkShapes(t *testing.T, a Adapter) {
	if len(a.Shapes) == 0 {
		t.Skipf("%s has no documented shapes in its adapter", a.Name)
	}
	for _, sh := range a.Shapes {
		name := sh.File + "/" + sh.Method
		if sh.State != "" {
			name += "/" + sh.State
		}
		t.Run(name, func(t *testing.T) {
			e := start(t, a)
			id := a.UnknownID
			switch {
			case sh.Setup != nil:
				var err error
				if id, err = sh.Setup(e.sim); err != nil {
					t.Fatalf("setup: %v", err)
				}
			case sh.State != "":
				id = e.create(t, sh.State)
			}
			obs, err := sh.Call(id)(t.Context(), e.client)
			e.assertClean(t, obs, err)
			ans, ok := e.answers.last(sh.Method)
			if !ok {
				t.Fatalf("the client sent no %s (result %+v, %v)", sh.Method, obs, err)
			}
			if ans.status != sh.Status {
				t.Fatalf("%s answered HTTP %d, want %d: %s", sh.Method, ans.status, sh.Status, ans.body)
			}
			want, got := decodeJSON(t, readSeed(t, sh.File)), decodeJSON(t, ans.body)
			if diffs := CompareShapes("", want, got, sh.Nullable); len(diffs) > 0 {
				t.Errorf("the simulator's answer differs from %s:\n%s", sh.File, strings.Join(diffs, "\n"))
			}
		})
	}
}

func decodeJSON(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %v: %.200s", err, body)
	}
	return v
}

// CompareShapes lists where got's keys and JSON types differ from the
// documented want, by path. An array's items must each have the shape of
// one of the documented items (an empty array matches any); an object
// documented as {} is a map with free keys; nullable says which fields may
// be null or a value (see Shape.Nullable).
func CompareShapes(path string, want, got any, nullable map[string]string) []string {
	if typ, ok := nullable[path]; ok {
		if g := jsonKind(got); g != "null" && g != typ {
			return []string{fmt.Sprintf("%s: %s, documented %s or null", path, g, typ)}
		}
		if got == nil || want == nil {
			return nil // nothing documented under a null to compare with
		}
	}
	if jsonKind(want) != jsonKind(got) {
		return []string{fmt.Sprintf("%s: %s, documented %s", path, jsonKind(got), jsonKind(want))}
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		if len(w) == 0 {
			return nil // documented as {}: a map whose keys are free (metadata)
		}
		var diffs []string
		for _, k := range unionKeys(w, g) {
			wv, inWant := w[k]
			gv, inGot := g[k]
			switch {
			case !inGot:
				diffs = append(diffs, fmt.Sprintf("%s: missing", joinPath(path, k)))
			case !inWant:
				diffs = append(diffs, fmt.Sprintf("%s: not documented", joinPath(path, k)))
			default:
				diffs = append(diffs, CompareShapes(joinPath(path, k), wv, gv, nullable)...)
			}
		}
		return diffs
	case []any:
		var diffs []string
		for i, item := range got.([]any) {
			diffs = append(diffs, compareItem(fmt.Sprintf("%s[%d]", path, i), path+"[]", w, item, nullable)...)
		}
		return diffs
	}
	return nil
}

// compareItem: an item matches when it has the shape of some documented
// item; otherwise the differences from the closest one are reported.
func compareItem(at, path string, documented []any, item any, nullable map[string]string) []string {
	if len(documented) == 0 {
		return []string{at + ": not documented (the documented array is empty)"}
	}
	var best []string
	for i, d := range documented {
		diffs := CompareShapes(path, d, item, nullable)
		if len(diffs) == 0 {
			return nil
		}
		if i == 0 || len(diffs) < len(best) {
			best = diffs
		}
	}
	out := make([]string, len(best))
	for i, d := range best {
		out[i] = at + strings.TrimPrefix(d, path)
	}
	return out
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "object"
	}
}

func unionKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// recorder is the client's transport in the suite: it keeps every answer
// (status, headers, body) the simulator gave, so checks can hold the raw
// answers to the documented ones.
type recorder struct {
	next    http.RoundTripper
	mu      sync.Mutex
	answers []answer
}

type answer struct {
	method string
	status int
	header http.Header
	body   []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return nil, rerr
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, answer{method: req.Method, status: resp.StatusCode, header: resp.Header.Clone(), body: body})
	return resp, nil
}

// last is the latest answer to a request with method ("" for any).
func (r *recorder) last(method string) (answer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range slices.Backward(r.answers) {
		if method == "" || a.method == method {
			return a, true
		}
	}
	return answer{}, false
}
