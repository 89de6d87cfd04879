package conformance

import (
	"encoding/json"
	"strings"
	"testing"
)

// What CompareShapes tells apart.
func TestCompareShapes(t *testing.T) {
	doc := `{"id":"a","n":1,"meta":{},"opt":null,"maybe":"x","list":[{"k":true,"r":null},{"k":false,"r":"1"}]}`
	nullable := map[string]string{"opt": "string", "maybe": "string"}
	cases := []struct {
		name, body string
		want       []string
	}{
		{"same shape, other values", `{"id":"b","n":7,"meta":{"x":1},"opt":null,"maybe":"y","list":[{"k":true,"r":"2"},{"k":true,"r":null}]}`, nil},
		{"nullable served", `{"id":"b","n":7,"meta":{},"opt":"v","maybe":null,"list":[]}`, nil},
		{"nullable retyped", `{"id":"b","n":7,"meta":{},"opt":3,"maybe":"y","list":[]}`, []string{"opt: number, documented string or null"}},
		{"a renamed key", `{"id":"b","count":7,"meta":{},"opt":null,"maybe":"y","list":[]}`, []string{"count: not documented", "n: missing"}},
		{"a retyped key", `{"id":"b","n":"7","meta":{},"opt":null,"maybe":"y","list":[]}`, []string{"n: string, documented number"}},
		{"null where not nullable", `{"id":null,"n":7,"meta":{},"opt":null,"maybe":"y","list":[]}`, []string{"id: null, documented string"}},
		{"an item like none documented", `{"id":"b","n":7,"meta":{},"opt":null,"maybe":"y","list":[{"k":1,"r":null}]}`, []string{"list[0].k: number, documented bool"}},
		{"an undocumented item key", `{"id":"b","n":7,"meta":{},"opt":null,"maybe":"y","list":[{"k":true,"r":null,"z":0}]}`, []string{"list[0].z: not documented"}},
		{"meta not an object", `{"id":"b","n":7,"meta":[],"opt":null,"maybe":"y","list":[]}`, []string{"meta: array, documented object"}},
	}
	var want any
	if err := json.Unmarshal([]byte(doc), &want); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		var got any
		if err := json.Unmarshal([]byte(tc.body), &got); err != nil {
			t.Fatal(err)
		}
		diffs := CompareShapes("", want, got, nullable)
		if strings.Join(diffs, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: %q, want %q", tc.name, diffs, tc.want)
		}
	}
}
