// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /proc/PID/status and /proc/PID/smaps_rollup readers (see procmem.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health/procmem.h"

/* status is ~1.5 KiB and smaps_rollup ~1 KiB; leave room for new fields. */
#define PROC_TEXT_MAX 8192

long procmem__read_text(const char *path, char *buf, size_t max)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (got + 1 < max) {
		n = read(fd, buf + got, max - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				got = 0;
			break;
		}
		got += n;
	}
	buf[got] = '\0';
	close(fd);
	return got;
}

/* The value after "Key:" at the start of a line; NULL if absent. */
static const char *field(const char *text, const char *key)
{
	size_t n = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, n) && p[n] == ':')
			return p + n + 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static bool field_u64(const char *text, const char *key, uint64_t *out)
{
	const char *v = field(text, key);
	char *end;

	if (!v)
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return !errno && end != v;
}

static void parse_comm(const char *text, struct procmem *m)
{
	const char *v = field(text, "Name");
	size_t n;

	m->comm[0] = '\0';
	if (!v)
		return;
	v += strspn(v, " \t");
	n = strcspn(v, "\n");
	if (n >= sizeof(m->comm))
		n = sizeof(m->comm) - 1;
	memcpy(m->comm, v, n);
	m->comm[n] = '\0';
}

int procmem__parse_status(const char *text, struct procmem *m)
{
	const char *state = field(text, "State");
	uint64_t file = 0, shmem = 0, threads = 0;

	memset(m, 0, sizeof(*m));
	if (!state)
		return -ENODATA;
	state += strspn(state, " \t");
	if (*state == 'Z' || *state == 'X')
		return -ESRCH;
	parse_comm(text, m);
	if (!field_u64(text, "VmRSS", &m->rss_kib))
		return -ENODATA;
	field_u64(text, "VmSize", &m->vm_kib);
	field_u64(text, "RssFile", &file);
	field_u64(text, "RssShmem", &shmem);
	field_u64(text, "VmSwap", &m->swap_kib);
	field_u64(text, "Threads", &threads);
	m->shared_kib = file + shmem;
	m->threads = threads;
	return 0;
}

int procmem__parse_smaps_rollup(const char *text, uint64_t *pss_kib)
{
	return field_u64(text, "Pss", pss_kib) ? 0 : -ENODATA;
}

int procmem__read(const char *proc_root, uint32_t pid, struct procmem *m)
{
	char path[256], *buf = malloc(PROC_TEXT_MAX);
	long n;
	int err;

	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/status", proc_root ?: "/proc", pid);
	n = procmem__read_text(path, buf, PROC_TEXT_MAX);
	/* A PID that vanished between open and read reads empty. */
	err = n < 0 ? (n == -ENOENT ? -ESRCH : (int)n) : n == 0 ? -ESRCH : 0;
	if (!err)
		err = procmem__parse_status(buf, m);
	if (err)
		goto out;
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/smaps_rollup", proc_root ?: "/proc", pid);
	/* Pss needs ptrace read access: without it the figure is left out, not an error. */
	if (procmem__read_text(path, buf, PROC_TEXT_MAX) > 0)
		m->has_pss = !procmem__parse_smaps_rollup(buf, &m->pss_kib);
out:
	free(buf);
	return err;
}
