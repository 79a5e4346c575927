// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/proc.h"

bool proc__alive(pid_t pid)
{
	char path[64], buf[512], *rp;
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	/* comm may contain spaces and parentheses: the state follows the last ')'. */
	if (fgets(buf, sizeof(buf), f)) {
		rp = strrchr(buf, ')');
		alive = rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
	}
	fclose(f);
	return alive;
}

int proc__exe_name(pid_t pid, char *buf, size_t size)
{
	char path[64], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	base = strrchr(target, '/');
	snprintf(buf, size, "%s", base ? base + 1 : target);
	return 0;
}

void proc__self_usage(double *cpu_seconds, long *max_rss_kib, long *rss_kib)
{
	struct rusage ru;
	long pages = 0;
	FILE *f;

	getrusage(RUSAGE_SELF, &ru);
	*cpu_seconds = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	*max_rss_kib = ru.ru_maxrss;
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%*d %ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	*rss_kib = pages * (sysconf(_SC_PAGESIZE) / 1024);
}
