// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The cgroup memory limit of a process: /proc/PID/cgroup names its cgroup
 * ("0::/path"); the first memory.max that is not "max", walking from that
 * cgroup up to the root, is the limit that bites first. Hosts that still
 * mount the v1 memory controller (hybrid layouts) have the same walk over
 * <root>/memory/<path>/memory.limit_in_bytes, where a huge value means none.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/procmem.h"

#define CGROUP_TEXT_MAX 4096

int cgroup__parse_path(const char *text, char *out, size_t len)
{
	const char *p = text;
	size_t n;

	/* v1 hierarchies have lines "N:controllers:/path"; the v2 one is "0::/path". */
	while (p && *p) {
		if (!strncmp(p, "0::", 3)) {
			p += 3;
			n = strcspn(p, "\n");
			if (!n || *p != '/' || n >= len)
				return -ENOENT;
			memcpy(out, p, n);
			out[n] = '\0';
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

static int copy_path(const char *path, char *out, size_t len)
{
	if (path[0] != '/' || strlen(path) >= len)
		return -ENOENT;
	strcpy(out, path);
	return 0;
}

int cgroup__parse_v1_path(const char *text, char *out, size_t len)
{
	const char *line = text;
	char buf[512], *ctl, *path, *tok, *save;
	size_t n;

	/* "N:controller[,controller...]:/path" with "memory" among the controllers. */
	while (line && *line) {
		n = strcspn(line, "\n");
		if (n < sizeof(buf)) {
			memcpy(buf, line, n);
			buf[n] = '\0';
			ctl = strchr(buf, ':');
			path = ctl ? strchr(ctl + 1, ':') : NULL;
			if (path)
				*path++ = '\0';
			for (tok = path ? strtok_r(ctl + 1, ",", &save) : NULL; tok;
			     tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, "memory"))
					return copy_path(path, out, len);
		}
		line = line[n] ? line + n + 1 : NULL;
	}
	return -ENOENT;
}

int cgroup__parse_limit_in_bytes(const char *text, uint64_t *bytes)
{
	int err = cgroup__parse_max(text, bytes);

	/* v1 says "no limit" with PAGE_COUNTER_MAX pages, about 2^63 bytes. */
	if (!err && *bytes >= (1ULL << 62))
		*bytes = 0;
	return err;
}

int cgroup__parse_max(const char *text, uint64_t *bytes)
{
	char *end;

	if (!strncmp(text, "max", 3) && (text[3] == '\n' || !text[3])) {
		*bytes = 0;
		return 0;
	}
	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	*bytes = strtoull(text, &end, 10);
	if (errno || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

/* ".." would walk out of the cgroup tree: never follow such a path. */
static bool path_safe(const char *p)
{
	size_t n = strlen(p);

	return !strstr(p, "/../") && !(n >= 3 && !strcmp(p + n - 3, "/.."));
}

typedef int (*limit_parser)(const char *text, uint64_t *bytes);

static int walk_up(const char *root, char *cg, const char *file, limit_parser parse,
		   uint64_t *bytes)
{
	char path[PATH_MAX + 32], text[64];
	char *slash;
	long n;

	*bytes = 0;
	for (;;) {
		snprintf(path, sizeof(path), "%s%s/%s", root, cg, file);
		n = procmem__read_text(path, text, sizeof(text));
		if (n > 0 && !parse(text, bytes) && *bytes)
			return 0;
		/* The root cgroup has no memory.max: stop after "/". */
		slash = strrchr(cg, '/');
		if (!slash || (slash == cg && !cg[1]))
			return 0;
		slash[slash == cg ? 1 : 0] = '\0';
	}
}

static int limit_v2(const char *text, const char *root, uint64_t *bytes)
{
	char cg[PATH_MAX];
	int err = cgroup__parse_path(text, cg, sizeof(cg));

	*bytes = 0;
	if (!err && !path_safe(cg))
		err = -EINVAL;
	if (!err)
		err = walk_up(root, cg, "memory.max", cgroup__parse_max, bytes);
	return err == -ENOENT ? 0 : err;
}

static int limit_v1(const char *text, const char *root, uint64_t *bytes)
{
	char cg[PATH_MAX], mroot[PATH_MAX];
	int err = cgroup__parse_v1_path(text, cg, sizeof(cg));

	*bytes = 0;
	if (!err && !path_safe(cg))
		err = -EINVAL;
	snprintf(mroot, sizeof(mroot), "%s/memory", root);
	if (!err)
		err = walk_up(mroot, cg, "memory.limit_in_bytes", cgroup__parse_limit_in_bytes,
			      bytes);
	return err;
}

int cgroup__memory_limit(const char *proc_root, const char *cgroup_root, uint32_t pid,
			 uint64_t *bytes)
{
	char path[256], *text = malloc(CGROUP_TEXT_MAX);
	long n;
	int err;

	*bytes = 0;
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/cgroup", proc_root ?: "/proc", pid);
	n = procmem__read_text(path, text, CGROUP_TEXT_MAX);
	err = n < 0 ? (int)n : 0;
	if (!err)
		err = limit_v2(text, cgroup_root ?: "/sys/fs/cgroup", bytes);
	if (!err && !*bytes)
		err = limit_v1(text, cgroup_root ?: "/sys/fs/cgroup", bytes);
	free(text);
	return err == -ENOENT ? 0 : err;
}
