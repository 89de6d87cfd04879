package orderplan

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

func TestLine(t *testing.T) {
	base := Entry{Namespace: "lending", Name: "loan-1", Vendor: "truework", OrderID: "8f3c21d0-aaaa-bbbb", Desired: v1.DesiredCanceled,
		VendorState: "processing", State: "active"}
	with := func(mod func(*Entry)) Entry {
		e := base
		mod(&e)
		return e
	}
	for _, tc := range []struct {
		entry Entry
		want  string
	}{
		{with(func(e *Entry) { e.Change = Cancel }),
			"~ lending/loan-1: cancel (truework order 8f3c21d0-aaaa-bbbb, observed processing (active))"},
		{with(func(e *Entry) {
			e.Change, e.Desired, e.VendorState, e.OrderID = Close, v1.DesiredClosed, "active", "ac-77"
		}),
			"~ lending/loan-1: close (truework order ac-77, observed active)"},
		{with(func(e *Entry) { e.Change, e.OrderID, e.RequestID, e.ReportID = Reverify, "", "vr-1", "rp-1" }),
			"~ lending/loan-1: reverify (truework request vr-1, report rp-1)"},
		{with(func(e *Entry) { e.Change, e.Message = Pending, "not observed yet" }),
			"? lending/loan-1: pending (truework order 8f3c21d0-aaaa-bbbb, wants canceled): not observed yet"},
		{with(func(e *Entry) {
			e.Change, e.Hold, e.Reason, e.Message = Blocked, HoldStalled, v1.ReasonAlreadyTerminal, "Wanted canceled."
		}),
			"! lending/loan-1: Stalled AlreadyTerminal: Wanted canceled."},
		{with(func(e *Entry) {
			e.Change, e.Hold, e.Reason, e.Message = Blocked, HoldPaused, v1.ReasonPaused, "annotation set."
		}),
			"! lending/loan-1: Paused: annotation set."},
		{with(func(e *Entry) {
			e.Change, e.Reason, e.Message = NoChange, v1.ReasonConverged, "The order is canceled at truework."
		}),
			"  lending/loan-1: Converged: The order is canceled at truework."},
		{with(func(e *Entry) { e.Change = Create }),
			"+ lending/loan-1: create (truework order 8f3c21d0-aaaa-bbbb, wants canceled)"},
		{with(func(e *Entry) {
			e.Change, e.Hold, e.Reason, e.Message, e.Desired = Create, HoldStalled, v1.ReasonUnsupportedState, "truework does not support state: closed.", v1.DesiredClosed
		}),
			"+ lending/loan-1: create (truework order 8f3c21d0-aaaa-bbbb, wants closed); then Stalled UnsupportedState: truework does not support state: closed."},
		{with(func(e *Entry) { e.Change, e.Vendor = Create, "" }),
			"+ lending/loan-1: create (unknown vendor order 8f3c21d0-aaaa-bbbb, wants canceled)"},
		{Refused("lending", "loan-1", errors.New(`spec.state: Unsupported value: "bogus"`)),
			`x lending/loan-1: invalid: spec.state: Unsupported value: "bogus"`},
	} {
		if got := Line(tc.entry); got != tc.want {
			t.Errorf("Line(%s):\n got %q\nwant %q", tc.entry.Change, got, tc.want)
		}
	}
}

func TestSummary(t *testing.T) {
	entries := func(changes ...Change) []Entry {
		out := make([]Entry, 0, len(changes))
		for _, c := range changes {
			out = append(out, Entry{Change: c})
		}
		return out
	}
	for _, tc := range []struct {
		entries []Entry
		want    string
		changes int
	}{
		{nil, "Plan: 0 to cancel, 0 to close, 0 to reverify, 0 blocked, 0 unchanged.", 0},
		{entries(Cancel, Cancel, Close, Reverify, Blocked, NoChange, NoChange),
			"Plan: 2 to cancel, 1 to close, 1 to reverify, 1 blocked, 2 unchanged.", 4},
		{entries(Create, Pending, Invalid, Invalid, Blocked),
			"Plan: 0 to cancel, 0 to close, 0 to reverify, 1 blocked, 1 to create, 1 pending, 2 invalid, 0 unchanged.", 1},
	} {
		s := Summarize(tc.entries)
		if s.String() != tc.want || s.Changes() != tc.changes {
			t.Errorf("got %q with %d changes, want %q with %d", s.String(), s.Changes(), tc.want, tc.changes)
		}
	}
}

func TestRender(t *testing.T) {
	entries := []Entry{
		{Namespace: "b", Name: "done", Change: NoChange, Reason: v1.ReasonConverged, Message: "ok."},
		{Namespace: "b", Name: "stuck", Change: Blocked, Hold: HoldStalled, Reason: v1.ReasonOrderNotFound, Message: "gone."},
		{Namespace: "b", Name: "new", Change: Pending, Vendor: "truv", OrderID: "t-1", Desired: v1.DesiredActive, Message: "not observed yet"},
		{Namespace: "b", Name: "z", Change: Cancel, Vendor: "truv", OrderID: "t-2", VendorState: "sent", State: "active"},
		{Namespace: "a", Name: "y", Change: Cancel, Vendor: "truv", OrderID: "t-3", VendorState: "pending", State: "active"},
		{Namespace: "a", Name: "bad", Change: Invalid, Message: "refused."},
	}
	changesOnly := strings.Join([]string{
		"~ a/y: cancel (truv order t-3, observed pending (active))",
		"~ b/z: cancel (truv order t-2, observed sent (active))",
		"? b/new: pending (truv order t-1, wants active): not observed yet",
		"! b/stuck: Stalled OrderNotFound: gone.",
		"x a/bad: invalid: refused.",
		"",
		"Plan: 2 to cancel, 0 to close, 0 to reverify, 1 blocked, 1 pending, 1 invalid, 1 unchanged.",
		"",
	}, "\n")
	var b strings.Builder
	if err := Render(&b, entries, false); err != nil || b.String() != changesOnly {
		t.Errorf("Render:\n%s\nwant:\n%s (err %v)", b.String(), changesOnly, err)
	}
	b.Reset()
	if err := Render(&b, entries, true); err != nil || !strings.Contains(b.String(), "x a/bad: invalid: refused.\n  b/done: Converged: ok.\n\nPlan:") {
		t.Errorf("Render with unchanged lists them last:\n%s (err %v)", b.String(), err)
	}
	b.Reset()
	if err := Render(&b, nil, false); err != nil || b.String() != "Plan: 0 to cancel, 0 to close, 0 to reverify, 0 blocked, 0 unchanged.\n" {
		t.Errorf("Render of nothing: %q (err %v)", b.String(), err)
	}
}
