// Package version says which build of the operator is running.
package version

import "runtime/debug"

// Version is stamped at build time (`make build VERSION=v1.2.3`, the
// Dockerfile's VERSION build argument) with
// -ldflags "-X github.com/ordersync/verification-operator/internal/version.Version=v1.2.3".
var Version = ""

// Get returns the stamped version; else the module version `go install
// ...@v1.2.3` records; else "dev".
func Get() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
