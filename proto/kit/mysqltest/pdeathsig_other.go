//go:build !linux

package mysqltest

import "os/exec"

// dieWithParent is a no-op where there is no parent-death signal: use Main
// from TestMain so the server is stopped when the tests finish.
func dieWithParent(cmd *exec.Cmd) {}
