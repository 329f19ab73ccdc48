package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// A restart of a long-running srctl process must not refuse a connection. A second process
// binding the same port with SO_REUSEPORT is not enough: connections waiting in the old
// socket's accept queue are reset when it closes. So the listening sockets themselves are
// handed over, and never closed while someone may connect:
//
//   - on SIGUSR2, the running process starts its successor (the same executable and
//     arguments) with the sockets as inherited file descriptors (SRCTL_LISTEN_FDS) and a pipe
//     (SRCTL_READY_FD) on which the successor says "ready" once it serves; only then does the
//     old process stop accepting and drain, as on SIGTERM;
//   - under systemd socket activation (LISTEN_PID, LISTEN_FDS), the sockets come from systemd:
//     the first is --listen, the second (if any) --metrics-addr.
const (
	envListenFDs = "SRCTL_LISTEN_FDS" // "3" or "3,4": the --listen socket, then the metrics socket
	envReadyFD   = "SRCTL_READY_FD"
)

// inheritedListeners returns the sockets handed to this process (nil when none), and clears
// the variables so that a process started later does not take them for its own.
func inheritedListeners() (main, metrics net.Listener, err error) {
	var fds []int
	if v := os.Getenv(envListenFDs); v != "" {
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 3 {
				return nil, nil, fmt.Errorf("%s=%q: want file descriptor numbers from 3", envListenFDs, v)
			}
			fds = append(fds, n)
		}
	} else if pid, _ := strconv.Atoi(os.Getenv("LISTEN_PID")); pid == os.Getpid() {
		n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
		if err != nil || n < 1 {
			return nil, nil, fmt.Errorf("LISTEN_FDS=%q: want the number of sockets systemd passed", os.Getenv("LISTEN_FDS"))
		}
		for i := range min(n, 2) {
			fds = append(fds, 3+i)
		}
	}
	os.Unsetenv(envListenFDs)
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	var lns []net.Listener
	for _, fd := range fds {
		f := os.NewFile(uintptr(fd), "inherited-listener-"+strconv.Itoa(fd))
		ln, err := net.FileListener(f)
		f.Close() // FileListener holds its own duplicate
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, nil, fmt.Errorf("inherited socket %d: %w", fd, err)
		}
		lns = append(lns, ln)
	}
	switch len(lns) {
	case 0:
		return nil, nil, nil
	case 1:
		return lns[0], nil, nil
	}
	return lns[0], lns[1], nil
}

// signalReady tells the predecessor, if any, that this process serves.
func signalReady() {
	v := os.Getenv(envReadyFD)
	os.Unsetenv(envReadyFD)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return
	}
	f := os.NewFile(uintptr(fd), "ready")
	f.WriteString("ready\n")
	f.Close()
}

// handOver starts the successor with the listeners and waits until it serves. On an error the
// successor is stopped and the caller goes on serving.
func handOver(main, metrics net.Listener, timeout time.Duration) (pid int, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("finding the executable: %w", err)
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var fdList []string
	for _, ln := range []net.Listener{main, metrics} {
		if ln == nil {
			continue
		}
		fl, ok := ln.(interface{ File() (*os.File, error) })
		if !ok {
			return 0, fmt.Errorf("listener %s cannot be handed over", ln.Addr())
		}
		f, err := fl.File()
		if err != nil {
			return 0, fmt.Errorf("duplicating listener %s: %w", ln.Addr(), err)
		}
		files = append(files, f)
		fdList = append(fdList, strconv.Itoa(2+len(files)))
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	files = append(files, w)
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), envListenFDs+"="+strings.Join(fdList, ","), envReadyFD+"="+strconv.Itoa(2+len(files)))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	cmd.ExtraFiles = files
	err = cmd.Start()
	// The successor holds its own copies. With the pipe's write end closed here, EOF on the
	// read end means the successor died.
	for _, f := range files {
		f.Close()
	}
	files = nil
	if err != nil {
		return 0, fmt.Errorf("starting the successor: %w", err)
	}
	go cmd.Wait() // reap it if it dies; once it serves it outlives this process
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err == nil && line == "ready\n" {
			ready <- nil
			return
		}
		ready <- errors.New("the successor exited before it served")
	}()
	select {
	case err := <-ready:
		if err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	case <-time.After(timeout):
		cmd.Process.Kill()
		return 0, fmt.Errorf("the successor did not serve within %s", timeout)
	}
}
