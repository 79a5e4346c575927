/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Small /proc readers shared by the front end and collectors. */
#ifndef BPFPROF_UTIL_PROC_H
#define BPFPROF_UTIL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* True if pid exists and is not a zombie. */
bool proc__alive(pid_t pid);
/* Basename of /proc/PID/exe into buf; 0 or negative errno. */
int proc__exe_name(pid_t pid, char *buf, size_t size);
/* CPU seconds (user + system) and peak RSS in KiB of this process. */
void proc__self_usage(double *cpu_seconds, long *max_rss_kib, long *rss_kib);

#endif
