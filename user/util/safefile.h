/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Opening files on behalf of other users. The agent runs as root and reads
 * paths that any local user controls (binaries, debug files, perf maps): a
 * FIFO must not block it, /dev/zero must not feed it forever, a symlink must
 * not lead it out of a process's root, a huge sparse file must not be
 * buffered. Every open here is O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOCTTY, checked
 * with fstat to be a regular file no larger than the caller's cap, and every
 * refusal is counted (process-wide) and the last one remembered for reports.
 * Thread use: any thread; the counters are atomic.
 */
#ifndef BPFPROF_UTIL_SAFEFILE_H
#define BPFPROF_UTIL_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum safefile_flags {
	/*
	 * Follow a symlink in the last component. Without it the open is
	 * O_NOFOLLOW: a symlink there is refused (-ELOOP), for locations a user
	 * writes (a binary's directory, /tmp) where no legitimate file is one.
	 */
	SAFEFILE_FOLLOW = 1 << 0,
	/*
	 * dirfd is a process's root (a dirfd of /proc/PID/root): path is
	 * resolved as if that directory were "/" (openat2 RESOLVE_IN_ROOT), so
	 * neither ".." nor an absolute symlink leaves it, and magic links
	 * (/proc/self/root inside a container) are refused.
	 */
	SAFEFILE_IN_ROOT = 1 << 1,
};

/* Why a file was refused; the counters are indexed by this. */
enum safefile_reason {
	SAFEFILE_NOT_REGULAR, /* FIFO, device, socket, directory */
	SAFEFILE_TOO_BIG,     /* larger than the caller's cap */
	SAFEFILE_SYMLINK,     /* symlink where none is followed, or a magic link */
	SAFEFILE_ESCAPE,      /* resolution tried to leave the process's root */
	SAFEFILE_LONG_LINE,   /* a line over the reader's cap (line skipped) */
	SAFEFILE_NR_REASONS,
};

struct safefile_stats {
	uint64_t refused; /* sum of by_reason */
	uint64_t by_reason[SAFEFILE_NR_REASONS];
	char last[256]; /* "PATH: reason" of the latest refusal, "" if none */
};

/*
 * Opens path (relative to dirfd, or absolute when not SAFEFILE_IN_ROOT) for
 * reading as described above. max_size: 0 for no cap. On success *fd is the
 * open file and, when st_size is not NULL, *st_size its size. Returns 0,
 * -ENOENT/-EACCES/... from the kernel, or a refusal: -ENODEV (not a
 * regular file), -EFBIG (over max_size), -ELOOP (symlink refused), -EXDEV
 * (escape). Refusals are counted and logged (the first few) to stderr.
 * Without openat2 (ENOSYS), SAFEFILE_IN_ROOT walks the path one component
 * at a time and refuses every symlink and "..".
 */
int safefile__open(int dirfd, const char *path, unsigned int flags, uint64_t max_size, int *fd,
		   uint64_t *st_size);

/*
 * Reads all of fd (a regular file) into a NUL-terminated malloc'ed buffer,
 * at most max bytes: 0, -EFBIG when the file holds more, -errno.
 */
int safefile__read_all(int fd, size_t max, char **buf, size_t *len);

/*
 * Bounded line reader over an fd: one fixed buffer of max_line bytes, reads
 * stop after max_total bytes whatever the file does meanwhile.
 */
struct safefile_lines;
/* NULL + errno. The reader does not own fd. path only names refusals. */
struct safefile_lines *safefile_lines__new(int fd, size_t max_line, uint64_t max_total,
					   const char *path);
void safefile_lines__free(struct safefile_lines *lr); /* NULL-safe */
/*
 * The next line without its '\n', NUL-terminated, valid until the next
 * call: 1, 0 at the end (or max_total), -errno. A line longer than max_line
 * is skipped whole and counted (SAFEFILE_LONG_LINE).
 */
int safefile_lines__next(struct safefile_lines *lr, const char **line, size_t *len);
/* Lines skipped for their length so far. */
uint64_t safefile_lines__skipped(const struct safefile_lines *lr);

/* Counts a refusal made by a caller for its own reason (e.g. a long line). */
void safefile__refuse(const char *path, enum safefile_reason why);
void safefile__stats(struct safefile_stats *out);
/* "not a regular file", ... for messages; "not_regular", ... for metric labels. */
const char *safefile__reason_name(enum safefile_reason why);
const char *safefile__reason_key(enum safefile_reason why);

/* Tests: pretend openat2 is missing (ENOSYS) to exercise the fallback. */
void safefile__force_no_openat2(bool on);

#endif
