package deploy

import (
	"os/exec"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ordersync/verification-operator/test/testutil"
)

// A release installer names the release's image, never :latest; a
// development one says :latest. `make -n` prints the recipe without running
// it, so the working tree is left alone.
var _ = DescribeTable("make build-installer",
	func(version, image string) {
		args := []string{"-n", "--no-print-directory", "build-installer"}
		if version != "" {
			args = append(args, "VERSION="+version)
		}
		cmd := exec.Command("make", args...)
		cmd.Dir = testutil.RepoRoot()
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "make %v:\n%s", args, out)
		Expect(string(out)).To(ContainSubstring("edit set image controller="+image+"\n"), "make %v", args)
	},
	Entry("pins a release's image", "v1.2.3", "ghcr.io/ordersync/verification-operator:v1.2.3"),
	Entry("uses :latest for a development build", "", "ghcr.io/ordersync/verification-operator:latest"),
)
