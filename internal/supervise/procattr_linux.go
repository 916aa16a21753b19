package supervise

import (
	"runtime"
	"syscall"
)

// startAttrs gives the child a process group of its own and, should this process die without stopping it
// (SIGKILL, the OOM killer, a crash), a SIGTERM from the kernel: the app behind the proxy never outlives it,
// listening unprotected.
func startAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// lockThread keeps the goroutine on its thread while the child starts: the kernel sends the parent-death signal
// when the thread that forked the child ends, not the process (golang/go#27505). Go ends a thread only when a
// goroutine exits while locked to it, which Start's never does.
func lockThread() (unlock func()) {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
