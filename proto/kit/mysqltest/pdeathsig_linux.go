package mysqltest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the server when the test binary dies,
// even by SIGKILL (a test timeout), so no mariadbd outlives its tests.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
