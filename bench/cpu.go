package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// every Linux this runs on).
const clockTick = 10 * time.Millisecond

// processCPU is the CPU time (user + system, all threads) pid has used,
// from /proc/PID/stat; 0 when it cannot be read (not Linux, pid 0).
//
// The load generator and the servers share the machine's cores, so a
// target's requests per second also move with whatever else runs; the
// server's CPU time per request does not, which makes it the finer
// measure of what a change to the server costs (observability, above
// all). Its resolution is a clock tick: a 2 s run of a server using a
// core and a half reads ~300 ticks, 0.3%.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// fields are counted after its closing one.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	// After the name: state(3) ppid pgrp session tty_nr tpgid flags
	// minflt cminflt majflt cmajflt utime(14) stime(15).
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(user+sys) * clockTick
}
