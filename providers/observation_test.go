package providers

import (
	"strings"
	"testing"
)

func TestObservationCheck(t *testing.T) {
	good := Observation{ID: "ver_123", VendorState: "pending", Requests: []Request{{ID: "r-1", VendorState: "sent"}}}
	if err := good.Check(); err != nil {
		t.Fatalf("a well-formed observation was refused: %v", err)
	}
	bad := map[string]Observation{
		"no state (a 2xx without the fields we need)": {ID: "ver_123"},
		"no id":                      {VendorState: "pending"},
		"a 32 KiB state word":        {ID: "ver_123", VendorState: strings.Repeat("s", 32<<10)},
		"an id past the API's limit": {ID: strings.Repeat("a", MaxIDLen+1), VendorState: "pending"},
		"a control character":        {ID: "ver_123", VendorState: "pend\ning"},
		"a part without a state":     {ID: "o", VendorState: "x", Requests: []Request{{ID: "r"}}},
		"a part with an overlong id": {ID: "o", VendorState: "x", Requests: []Request{{ID: strings.Repeat("r", 200), VendorState: "sent"}}},
		"more parts than any order":  {ID: "o", VendorState: "x", Requests: make([]Request, 51)},
	}
	for name, o := range bad {
		err := o.Check()
		if KindOf(err) != KindTransient {
			t.Errorf("%s: error %v, want a transient one", name, err)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("%s: the message must not echo the value: %d bytes", name, len(err.Error()))
		}
	}
	if _, err := Checked(Observation{ID: "x"}, nil); err == nil {
		t.Error("Checked must check")
	}
}
