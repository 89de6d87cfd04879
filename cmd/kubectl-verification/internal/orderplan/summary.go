package orderplan

import (
	"fmt"
	"strings"
)

// Summary counts a plan's entries by change.
type Summary struct {
	Create, Cancel, Close, Reverify, Blocked, Pending, Invalid, Unchanged int
}

// Summarize counts entries.
func Summarize(entries []Entry) Summary {
	var s Summary
	for _, e := range entries {
		switch e.Change {
		case Create:
			s.Create++
		case Cancel:
			s.Cancel++
		case Close:
			s.Close++
		case Reverify:
			s.Reverify++
		case Blocked:
			s.Blocked++
		case Pending:
			s.Pending++
		case Invalid:
			s.Invalid++
		default:
			s.Unchanged++
		}
	}
	return s
}

// Changes is how many entries change something: at the vendor, or in the
// cluster (a create).
func (s Summary) Changes() int { return s.Create + s.Cancel + s.Close + s.Reverify }

// String is the plan's last line, e.g. "Plan: 1 to cancel, 0 to close,
// 0 to reverify, 2 blocked, 1 unchanged." The four counts always appear,
// in that order, for scripts; create, pending and invalid only when there
// are any.
func (s Summary) String() string {
	parts := []string{
		fmt.Sprintf("%d to cancel", s.Cancel),
		fmt.Sprintf("%d to close", s.Close),
		fmt.Sprintf("%d to reverify", s.Reverify),
		fmt.Sprintf("%d blocked", s.Blocked),
	}
	for _, extra := range []struct {
		n    int
		what string
	}{{s.Create, "to create"}, {s.Pending, "pending"}, {s.Invalid, "invalid"}} {
		if extra.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", extra.n, extra.what))
		}
	}
	parts = append(parts, fmt.Sprintf("%d unchanged", s.Unchanged))
	return "Plan: " + strings.Join(parts, ", ") + "."
}
