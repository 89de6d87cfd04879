package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The plugin shares the controller's planning code, and nothing else of the
// controllers: importing a reconciler would bring its metrics, registered
// at init, and its dependencies into a command-line tool. The operator's
// packages it may import under controllers/ are these.
var sharedWithTheController = map[string]bool{
	"github.com/ordersync/verification-operator/controllers/plan":   true,
	"github.com/ordersync/verification-operator/controllers/budget": true,
}

func TestImportsOnlyTheSharedControllerPackages(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const controllers = "github.com/ordersync/verification-operator/controllers"
	for _, pkg := range strings.Fields(string(out)) {
		if (pkg == controllers || strings.HasPrefix(pkg, controllers+"/")) && !sharedWithTheController[pkg] {
			t.Errorf("the plugin imports %s", pkg)
		}
	}
}
