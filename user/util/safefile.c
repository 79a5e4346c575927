// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/safefile.h"

/* Refusals logged one by one; later ones are only counted (a crafted file
 * can produce one per line). */
#define LOG_FIRST 10
/* openat2 RESOLVE_IN_ROOT returns EAGAIN when a rename raced the walk. */
#define OPENAT2_RETRIES 4

static uint64_t counts[SAFEFILE_NR_REASONS];
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static char last[sizeof(((struct safefile_stats *)0)->last)];
static bool no_openat2;

static const char *const reason_names[SAFEFILE_NR_REASONS] = {
    [SAFEFILE_NOT_REGULAR] = "not a regular file",
    [SAFEFILE_TOO_BIG] = "larger than its cap",
    [SAFEFILE_SYMLINK] = "symlink not followed",
    [SAFEFILE_ESCAPE] = "path leaves the process's root",
    [SAFEFILE_LONG_LINE] = "line longer than its cap",
};

static const char *const reason_keys[SAFEFILE_NR_REASONS] = {
    [SAFEFILE_NOT_REGULAR] = "not_regular", [SAFEFILE_TOO_BIG] = "too_big",
    [SAFEFILE_SYMLINK] = "symlink",	    [SAFEFILE_ESCAPE] = "escape",
    [SAFEFILE_LONG_LINE] = "long_line",
};

const char *safefile__reason_key(enum safefile_reason why)
{
	return why < SAFEFILE_NR_REASONS ? reason_keys[why] : "unknown";
}

const char *safefile__reason_name(enum safefile_reason why)
{
	return why < SAFEFILE_NR_REASONS ? reason_names[why] : "?";
}

void safefile__refuse(const char *path, enum safefile_reason why)
{
	uint64_t n;

	if (why >= SAFEFILE_NR_REASONS)
		return;
	n = __atomic_add_fetch(&counts[why], 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&last_lock);
	snprintf(last, sizeof(last), "%s: %s", path ? path : "?", reason_names[why]);
	pthread_mutex_unlock(&last_lock);
	if (n <= LOG_FIRST)
		fprintf(stderr, "bpfprof: refused %s: %s%s\n", path ? path : "?", reason_names[why],
			n == LOG_FIRST ? " (further refusals of this kind are only counted)" : "");
}

void safefile__stats(struct safefile_stats *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < SAFEFILE_NR_REASONS; i++) {
		out->by_reason[i] = __atomic_load_n(&counts[i], __ATOMIC_RELAXED);
		out->refused += out->by_reason[i];
	}
	pthread_mutex_lock(&last_lock);
	memcpy(out->last, last, sizeof(out->last));
	pthread_mutex_unlock(&last_lock);
}

void safefile__force_no_openat2(bool on)
{
	no_openat2 = on;
}

static int sys_openat2(int dirfd, const char *path, struct open_how *how)
{
	if (no_openat2) {
		errno = ENOSYS;
		return -1;
	}
	return syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

/* One component under dir: a directory to walk through, or the file itself. */
static int walk__step(int dir, const char *comp, bool last, int oflags)
{
	struct stat st;
	int fd;

	if (!strcmp(comp, ".."))
		return -EXDEV;
	/* O_PATH|O_NOFOLLOW opens a symlink itself: caught by the fstat below. */
	fd = openat(dir, comp, last ? oflags | O_NOFOLLOW : O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (last)
		return fd;
	if (fstat(fd, &st))
		st.st_mode = 0;
	if (S_ISDIR(st.st_mode))
		return fd;
	close(fd);
	return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
}

/*
 * Without openat2: one component at a time under rootfd, O_NOFOLLOW each,
 * so nothing but plain directories is crossed. Symlinks and ".." are
 * refused outright: without the kernel's help they cannot be confined.
 */
static int walk__in_root(int rootfd, const char *path, int oflags)
{
	char *copy = strdup(path), *comp, *next, *save = NULL;
	int cur, fd = -ENOENT;

	if (!copy)
		return -ENOMEM;
	cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		fd = -errno;
	for (comp = strtok_r(copy, "/", &save); cur >= 0 && comp; comp = next) {
		next = strtok_r(NULL, "/", &save);
		if (!strcmp(comp, "."))
			continue;
		fd = walk__step(cur, comp, !next, oflags);
		close(cur);
		cur = next && fd >= 0 ? fd : -1;
	}
	if (cur >= 0) {
		/* The path ended in "." or was only slashes: a directory. */
		close(cur);
		fd = -EISDIR;
	}
	free(copy);
	return fd;
}

/* O_PATH: no open() side effects (FIFOs block, tape devices rewind) before the type is known. */
static int open__path(int dirfd, const char *path, unsigned int flags)
{
	int oflags = O_PATH | O_CLOEXEC | (flags & SAFEFILE_FOLLOW ? 0 : O_NOFOLLOW);
	struct open_how how = {
	    .flags = oflags,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1, i;

	if (!(flags & SAFEFILE_IN_ROOT)) {
		fd = openat(dirfd, path, oflags);
		return fd < 0 ? -errno : fd;
	}
	for (i = 0; i < OPENAT2_RETRIES; i++) {
		fd = sys_openat2(dirfd, path, &how);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS)
		return -errno;
	/* The walk never follows the last symlink either: it could point anywhere. */
	return walk__in_root(dirfd, path, O_PATH | O_CLOEXEC);
}

/*
 * O_PATH|O_NOFOLLOW opens a symlink itself rather than failing: refuse it
 * (with SAFEFILE_FOLLOW only the fallback walk leaves one here).
 */
static int check__type(const struct stat *st, uint64_t max_size, enum safefile_reason *why)
{
	if (S_ISLNK(st->st_mode)) {
		*why = SAFEFILE_SYMLINK;
		return -ELOOP;
	}
	if (!S_ISREG(st->st_mode)) {
		*why = SAFEFILE_NOT_REGULAR;
		return -ENODEV;
	}
	if (max_size && (uint64_t)st->st_size > max_size) {
		*why = SAFEFILE_TOO_BIG;
		return -EFBIG;
	}
	return 0;
}

/* The O_PATH fd reopened for reading: the same inode, no new path walk. */
static int reopen__read(int pfd)
{
	char self[64];
	int fd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

int safefile__open(int dirfd, const char *path, unsigned int flags, uint64_t max_size, int *fd,
		   uint64_t *st_size)
{
	enum safefile_reason why = SAFEFILE_NR_REASONS;
	struct stat st;
	int pfd, err;

	*fd = -1;
	if (!path || !*path)
		return -EINVAL;
	pfd = open__path(dirfd, path, flags);
	if (pfd < 0) {
		err = pfd;
		if (err == -ELOOP)
			why = SAFEFILE_SYMLINK;
		else if (err == -EXDEV)
			why = SAFEFILE_ESCAPE;
		goto out;
	}
	err = fstat(pfd, &st) ? -errno : check__type(&st, max_size, &why);
	if (!err) {
		*fd = reopen__read(pfd);
		err = *fd < 0 ? *fd : 0;
	}
	close(pfd);
	if (err)
		*fd = -1;
	else if (st_size)
		*st_size = st.st_size;
out:
	if (why != SAFEFILE_NR_REASONS)
		safefile__refuse(path, why);
	return err;
}

int safefile__read_all(int fd, size_t max, char **buf, size_t *len)
{
	size_t cap = 0, n = 0, want;
	char *b = NULL, *p;
	ssize_t r = 1;
	int err = 0;

	*buf = NULL;
	*len = 0;
	while (!err && r > 0) {
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 4096;
			p = realloc(b, cap);
			if (!p) {
				err = -ENOMEM;
				break;
			}
			b = p;
		}
		/* One byte past max tells "exactly max" from "more"; one is kept for the NUL. */
		want = cap - 1 - n;
		if (want > max + 1 - n)
			want = max + 1 - n;
		do
			r = read(fd, b + n, want);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			err = -errno;
		else
			n += r;
		if (n > max)
			err = -EFBIG;
	}
	if (err) {
		free(b);
		return err;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

struct safefile_lines {
	int fd;
	char *buf;
	size_t size; /* max_line + 2: the line, its '\n', the NUL of a last line */
	size_t start, end;
	uint64_t left; /* bytes still allowed by max_total */
	uint64_t skipped;
	bool skipping, eof;
	char *path;
};

struct safefile_lines *safefile_lines__new(int fd, size_t max_line, uint64_t max_total,
					   const char *path)
{
	struct safefile_lines *lr = calloc(1, sizeof(*lr));

	if (!lr)
		return NULL;
	lr->fd = fd;
	lr->size = max_line + 2;
	lr->left = max_total;
	lr->buf = malloc(lr->size);
	lr->path = strdup(path ? path : "?");
	if (!lr->buf || !lr->path || !max_line) {
		safefile_lines__free(lr);
		errno = max_line ? ENOMEM : EINVAL;
		return NULL;
	}
	return lr;
}

void safefile_lines__free(struct safefile_lines *lr)
{
	if (!lr)
		return;
	free(lr->buf);
	free(lr->path);
	free(lr);
}

uint64_t safefile_lines__skipped(const struct safefile_lines *lr)
{
	return lr ? lr->skipped : 0;
}

/* Refills after the unread bytes: 1 when bytes came, 0 at the end, -errno. */
static int lines__fill(struct safefile_lines *lr)
{
	size_t room;
	ssize_t r;

	if (lr->start) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	room = lr->size - 1 - lr->end;
	if (room > lr->left)
		room = lr->left;
	if (lr->eof || !room) {
		lr->eof = lr->eof || !lr->left;
		return 0;
	}
	do
		r = read(lr->fd, lr->buf + lr->end, room);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	lr->end += r;
	lr->left -= r;
	lr->eof = !r || !lr->left;
	return r > 0;
}

/* A line that does not fit: drop bytes up to its '\n' (or the end). */
static void lines__skip(struct safefile_lines *lr)
{
	char *nl = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);

	if (nl) {
		lr->start = nl + 1 - lr->buf;
		lr->skipping = false;
	} else {
		lr->start = lr->end;
	}
}

int safefile_lines__next(struct safefile_lines *lr, const char **line, size_t *len)
{
	char *nl;
	int r;

	for (;;) {
		if (lr->skipping)
			lines__skip(lr);
		nl = lr->skipping ? NULL : memchr(lr->buf + lr->start, '\n', lr->end - lr->start);
		if (nl) {
			*nl = '\0';
			*line = lr->buf + lr->start;
			*len = nl - *line;
			lr->start = nl + 1 - lr->buf;
			return 1;
		}
		if (!lr->skipping && lr->end - lr->start >= lr->size - 1) {
			lr->skipping = true;
			lr->skipped++;
			safefile__refuse(lr->path, SAFEFILE_LONG_LINE);
			continue;
		}
		r = lines__fill(lr);
		if (r < 0)
			return r;
		if (r)
			continue;
		/* The end: a last line without '\n', unless it was being skipped. */
		if (lr->skipping || lr->start == lr->end)
			return 0;
		lr->buf[lr->end] = '\0';
		*line = lr->buf + lr->start;
		*len = lr->end - lr->start;
		lr->start = lr->end;
		return 1;
	}
}
