package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// kubectl runs kubectl_complete-verification with the words after
// `kubectl verification`; the script hands them to the plugin's
// __complete, as they are.
func TestKubectlCompletionScript(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	dir := t.TempDir()
	// A stand-in for the plugin that prints the arguments it was given.
	fake := "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\n"
	if err := os.WriteFile(filepath.Join(dir, "kubectl-verification"), []byte(fake), 0o700); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("kubectl_complete-verification")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(script); err != nil || info.Mode()&0o111 == 0 {
		t.Fatalf("%s is not an executable file: %v", script, err)
	}
	cmd := exec.Command(sh, script, "plan", "-n", "lending", "")
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.Output()
	if want := "[__complete][plan][-n][lending][]"; err != nil || string(out) != want {
		t.Errorf("kubectl_complete-verification plan -n lending '': %q (%v), want %q", out, err, want)
	}
}
