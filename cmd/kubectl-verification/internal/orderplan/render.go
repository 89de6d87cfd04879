package orderplan

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

func (c Change) String() string {
	switch c {
	case Create:
		return "Create"
	case Cancel:
		return "Cancel"
	case Close:
		return "Close"
	case Reverify:
		return "Reverify"
	case Pending:
		return "Pending"
	case Blocked:
		return "Blocked"
	case Invalid:
		return "Invalid"
	}
	return "NoChange"
}

// marker is the line's first character, as Terraform marks a plan: + to
// create, ~ to change; then ? not known yet, ! blocked, x refused.
func (c Change) marker() string {
	switch c {
	case Create:
		return "+"
	case Cancel, Close, Reverify:
		return "~"
	case Pending:
		return "?"
	case Blocked:
		return "!"
	case Invalid:
		return "x"
	}
	return " "
}

// Line is one entry as a line of the plan, e.g.
//
//	~ lending/loan-4411: cancel (truework order 8f3c21d0, observed processing)
//	! lending/loan-4412: Stalled AlreadyTerminal: Wanted canceled, but ...
func Line(e Entry) string {
	head := e.Change.marker() + " " + e.Key() + ": "
	switch e.Change {
	case Create:
		line := head + "create (" + e.target() + ", wants " + string(e.Desired) + ")"
		if e.Reason != "" {
			line += "; then " + e.held()
		}
		return line
	case Cancel, Close:
		return head + strings.ToLower(e.Change.String()) + " (" + e.target() + ", " + e.observed() + ")"
	case Reverify:
		return head + "reverify (" + e.target() + ")"
	case Pending:
		return head + "pending (" + e.target() + ", wants " + string(e.Desired) + "): " + e.Message
	case Blocked:
		return head + e.held()
	case Invalid:
		return head + "invalid: " + e.Message
	}
	return head + string(e.Reason) + ": " + e.Message
}

// held is "Stalled AlreadyTerminal: message", or "Paused: message" where
// the hold is its own reason.
func (e Entry) held() string {
	if e.Hold == string(e.Reason) {
		return e.Hold + ": " + e.Message
	}
	return e.Hold + " " + string(e.Reason) + ": " + e.Message
}

// target names the vendor object, e.g. "truework order 8f3c21d0" or
// "truework request vr-1, report rp-1". Ids are never shortened: they are
// what a person looks up at the vendor, and some vendors' ids share long
// prefixes (Truework's start with AAAAAAAA).
func (e Entry) target() string {
	vendor := cmp.Or(e.Vendor, "unknown vendor")
	if e.RequestID != "" {
		return fmt.Sprintf("%s request %s, report %s", vendor, e.RequestID, e.ReportID)
	}
	return vendor + " order " + e.OrderID
}

func (e Entry) observed() string {
	if e.VendorState == string(e.State) {
		return "observed " + e.VendorState
	}
	return fmt.Sprintf("observed %s (%s)", e.VendorState, e.State)
}

// Sorted is entries in the order a plan lists them: those that change
// something, then pending, blocked and invalid ones, then unchanged ones,
// each group by namespace and name. Every output of a plan uses it, so the
// table and -o json list orders alike.
func Sorted(entries []Entry) []Entry {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(rank(a.Change), rank(b.Change)), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return sorted
}

// Render writes the plan: its entries (Sorted), the unchanged ones only
// with unchanged; then the summary line.
func Render(w io.Writer, entries []Entry, unchanged bool) error {
	var b strings.Builder
	for _, e := range Sorted(entries) {
		if e.Change != NoChange || unchanged {
			b.WriteString(Line(e) + "\n")
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString(Summarize(entries).String() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// rank orders the groups: what will happen first, then what waits, what is
// blocked, what was refused, and last what stays as it is.
func rank(c Change) int {
	if c == NoChange {
		return int(Invalid) + 1
	}
	return int(c)
}
