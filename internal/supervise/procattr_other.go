//go:build !linux

package supervise

import "syscall"

// startAttrs gives the child a process group of its own. Only Linux can have the kernel signal the child when
// this process dies.
func startAttrs() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func lockThread() (unlock func()) { return func() {} }
