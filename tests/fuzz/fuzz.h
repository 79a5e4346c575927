/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared helpers of the libFuzzer harnesses (tests/fuzz/fuzz_*.c). Each
 * harness calls the parser's public entry point exactly as the agent does;
 * entry points that only take a path read the input through a memfd named
 * /proc/self/fd/N. Single-threaded, as libFuzzer runs the target.
 */
#ifndef BPFPROF_FUZZ_H
#define BPFPROF_FUZZ_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed setup is a harness bug, not a finding: stop loudly. */
static inline void fuzz__die(const char *what)
{
	perror(what);
	abort();
}

/*
 * Replaces the content of a process-wide memfd with data; returns its fd and
 * its path for fopen() in path (>= 32 bytes). The fd stays open.
 */
static inline int fuzz__memfd(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	static int fd = -1;
	size_t off = 0;
	ssize_t n;

	if (fd < 0) {
		fd = memfd_create("bpfprof-fuzz", MFD_CLOEXEC);
		if (fd < 0)
			fuzz__die("memfd_create");
	}
	if (ftruncate(fd, 0))
		fuzz__die("ftruncate");
	while (off < size) {
		n = pwrite(fd, data + off, size - off, off);
		if (n <= 0)
			fuzz__die("pwrite");
		off += n;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* On tmpfs: truncating a file on ext4 flushes it to disk (auto_da_alloc). */
static char fuzz__dir[] = "/dev/shm/bpfprof-fuzz-XXXXXX";

static inline void fuzz__rm_dir(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/input", fuzz__dir);
	unlink(path);
	rmdir(fuzz__dir);
}

/* A private empty directory (fuzz__dir), removed at exit. */
static inline void fuzz__mkdir(void)
{
	if (!mkdtemp(fuzz__dir))
		fuzz__die("mkdtemp");
	atexit(fuzz__rm_dir);
}

/*
 * The same with a regular file, for readers that refuse /proc/self/fd
 * magic links (safefile): writes data to "input" in a private directory,
 * returns a dirfd of that directory, removed at exit.
 */
static inline int fuzz__file(const uint8_t *data, size_t size)
{
	static int dirfd = -1, fd = -1;
	size_t off = 0;
	ssize_t n;

	if (dirfd < 0) {
		fuzz__mkdir();
		dirfd = open(fuzz__dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fd = dirfd < 0 ? -1 : openat(dirfd, "input", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			fuzz__die("open");
	}
	if (ftruncate(fd, 0))
		fuzz__die("ftruncate");
	while (off < size) {
		n = pwrite(fd, data + off, size - off, off);
		if (n <= 0)
			fuzz__die("pwrite");
		off += n;
	}
	return dirfd;
}

/* A NUL-terminated malloc'd copy of data (the input itself is read-only). */
static inline char *fuzz__strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		fuzz__die("malloc");
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
