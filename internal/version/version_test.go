package version

import "testing"

func TestStampedVersionWins(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v1.2.3"
	if got := Get(); got != "v1.2.3" {
		t.Errorf("Get() = %q, want the stamped v1.2.3", got)
	}
	Version = ""
	if got := Get(); got == "" {
		t.Error("an unstamped build must still name itself (dev, or the module version)")
	}
}
