// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "collector/bpfmap.h"
#include "prof_limits.h"

int bpfmap__clear(int fd, size_t key_size, size_t max_keys)
{
	char *keys = calloc(max_keys ? max_keys : 1, key_size);
	void *prev = NULL;
	size_t n = 0;
	int deleted = 0;

	if (!keys)
		return -ENOMEM;
	while (n < max_keys && !bpf_map_get_next_key(fd, prev, keys + n * key_size)) {
		prev = keys + n * key_size;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		deleted += !bpf_map_delete_elem(fd, keys + i * key_size);
	free(keys);
	return deleted;
}

static uint32_t take_one_by_one(int fd, char *keys, char *vals, size_t ks, size_t vs, uint32_t max)
{
	uint32_t n = 0;

	while (n < max && !bpf_map_get_next_key(fd, NULL, keys + n * ks)) {
		if (bpf_map_lookup_and_delete_elem(fd, keys + n * ks, vals + n * vs))
			break;
		n++;
	}
	return n;
}

int bpfmap__take_all(int fd, void *keys, void *vals, size_t key_size, size_t val_size, uint32_t max)
{
	char *k = keys, *v = vals;
	uint32_t n = 0, batch;
	void *token = malloc(key_size < 8 ? 8 : key_size), *in = NULL;
	int err = 0;

	if (!token)
		return -ENOMEM;
	while (n < max) {
		batch = max - n;
		err = bpf_map_lookup_and_delete_batch(fd, in, token, k + n * key_size,
						      v + n * val_size, &batch, NULL);
		n += batch;
		if (err)
			break;
		in = token;
	}
	if (err && errno == ENOENT)
		err = 0;
	else if (err && n == 0 && (errno == EINVAL || errno == ENOTSUP || errno == 524)) {
		/* 524 is the kernel's ENOTSUPP: no batch operations for this map. */
		n = take_one_by_one(fd, k, v, key_size, val_size, max);
		err = 0;
	} else if (err)
		err = -errno;
	free(token);
	return err ? err : (int)n;
}

void bpfmap__grace_period(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0)
		usleep(20000);
}

int bpfmap__read_stackid(int fd, int32_t id, uint64_t *buf)
{
	int n = 0;

	if (id < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &id, buf))
		return -ENOENT;
	while (n < MAX_STACK_DEPTH && buf[n])
		n++;
	return n;
}
