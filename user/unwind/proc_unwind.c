// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-process mapping tables: the executable mappings of a process from
 * /proc/PID/maps, each tied to its binary's table and load bias, written to
 * unwind_procs. Rebuilt on exec and when the BPF side meets code in no known
 * mapping (dlopen, new JIT regions); removed when the process is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "symbolizer/procmaps.h"
#include "unwind/unwind_int.h"
#include "util/clock.h"
#include "util/proc.h"
#include "util/safefile.h"

#define SWEEP_MS 1000

struct unwind_pid {
	uint32_t pid; /* 0: free slot */
	uint32_t n_ids;
	uint32_t *ids; /* tables this process holds a reference on */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Our own vdso: the kernel maps the same image into every process. */
static int vdso_table(struct unwinder *u, uint32_t *id)
{
	const void *img = (const void *)getauxval(AT_SYSINFO_EHDR);
	static size_t size; /* the image does not move: looked up once */
	struct procmaps *m;

	if (!img)
		return -ENOENT;
	if (size)
		return unwind_bin__from_image(u, img, size, "vdso", id);
	m = procmaps__read("/proc/self/maps", true);
	if (!m)
		return -errno;
	for (size_t i = 0; i < m->nr; i++)
		if (m->ents[i].start == (uint64_t)(uintptr_t)img)
			size = m->ents[i].end - m->ents[i].start;
	procmaps__free(m);
	if (!size)
		return -ENOENT;
	return unwind_bin__from_image(u, img, size, "vdso", id);
}

/* The largest binary whose .eh_frame we read: real ones are far smaller. */
#define MAPPING_MAX_BYTES (4ull << 30)

/*
 * Opens the binary behind a mapping as the process sees it: map_files is a
 * kernel-made link to exactly the mapped file, so it is followed; the
 * fallback path is resolved inside the process's root, so a user's symlink
 * cannot lead us out of it. Either way only a regular file under the cap
 * opens (a FIFO or device would block or feed us forever).
 */
static int open_mapping(uint32_t pid, const struct procmaps_entry *e)
{
	char path[64];
	int fd = -1, root_fd, err;

	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", pid,
		 (unsigned long long)e->start, (unsigned long long)e->end);
	err = safefile__open(AT_FDCWD, path, SAFEFILE_FOLLOW, MAPPING_MAX_BYTES, &fd, NULL);
	/* A refused file is not retried by another name: it is the same file. */
	if (!err || e->deleted || err == -ENODEV || err == -EFBIG)
		return err ? err : fd;
	snprintf(path, sizeof(path), "/proc/%u/root", pid);
	root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	err = safefile__open(root_fd, e->path, SAFEFILE_IN_ROOT, MAPPING_MAX_BYTES, &fd, NULL);
	close(root_fd);
	return err ? err : fd;
}

/* Fills *m for one executable mapping; *id is UINT32_MAX when it has no table. */
static void fill_mapping(struct unwinder *u, uint32_t pid, const struct procmaps_entry *e,
			 struct unwind_mapping *m, uint32_t *id)
{
	int fd, err = -ENOENT;
	uint64_t bias;

	*id = UINT32_MAX;
	m->start = e->start;
	m->end = e->end;
	m->flags = UNWIND_MAP_NO_CFI;
	if (procmaps_entry__is_file(e)) {
		fd = open_mapping(pid, e);
		if (fd < 0)
			return;
		err = unwind_bin__from_fd(u, fd, id);
		close(fd);
	} else if (!strcmp(e->path, "[vdso]")) {
		err = vdso_table(u, id);
	}
	if (err || *id >= UNWIND_MAX_TABLES || u->bins[*id].no_cfi) {
		*id = err ? UINT32_MAX : *id;
		return;
	}
	if (unwind_bin__bias(u, *id, e->start, strcmp(e->path, "[vdso]") ? e->offset : 0, &bias))
		return;
	m->bias = bias;
	m->table_id = *id;
	m->flags = 0;
}

static struct unwind_pid *pid_slot(struct unwinder *u, uint32_t pid, bool insert)
{
	struct unwind_pid *free_slot = NULL;

	for (uint32_t i = 0; i < UNWIND_MAX_PROCS; i++) {
		if (u->pids[i].pid == pid)
			return &u->pids[i];
		if (!u->pids[i].pid && !free_slot)
			free_slot = &u->pids[i];
	}
	if (!insert || !free_slot)
		return NULL;
	free_slot->pid = pid;
	u->st.procs++;
	return free_slot;
}

static void release_ids(struct unwinder *u, struct unwind_pid *p)
{
	for (uint32_t i = 0; i < p->n_ids; i++)
		unwind_bin__unref(u, p->ids[i]);
	free(p->ids);
	p->ids = NULL;
	p->n_ids = 0;
}

static void forget(struct unwinder *u, struct unwind_pid *p)
{
	bpf_map_delete_elem(u->procs_fd, &p->pid);
	release_ids(u, p);
	p->pid = 0;
	u->st.procs--;
}

/* Builds the table of every executable mapping into u->scratch; ids gets the referenced tables. */
static int build(struct unwinder *u, uint32_t pid, const struct procmaps *maps, uint32_t *ids,
		 uint32_t *n_ids)
{
	struct unwind_proc *p = u->scratch;
	uint32_t id;

	memset(p, 0, sizeof(*p));
	*n_ids = 0;
	for (size_t i = 0; i < maps->nr; i++) {
		if (p->nr >= UNWIND_MAX_MAPPINGS) {
			u->st.mapping_drops++;
			continue;
		}
		fill_mapping(u, pid, &maps->ents[i], &p->maps[p->nr++], &id);
		if (id < UNWIND_MAX_TABLES) {
			unwind_bin__ref(u, id); /* held now so later mappings cannot evict it */
			ids[(*n_ids)++] = id;
		}
	}
	return 0;
}

int unwinder__add_pid(struct unwinder *u, uint32_t pid)
{
	struct procmaps *maps = NULL;
	struct unwind_pid *slot;
	uint32_t *ids = NULL, n_ids = 0;
	char path[64];
	int err;

	if (!u->pids) {
		u->pids = calloc(UNWIND_MAX_PROCS, sizeof(*u->pids));
		if (!u->pids)
			return -ENOMEM;
	}
	slot = pid_slot(u, pid, true);
	if (!slot) {
		u->st.proc_drops++;
		return -ENOSPC;
	}
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	maps = procmaps__read(path, true);
	ids = maps ? calloc(maps->nr ?: 1, sizeof(*ids)) : NULL;
	if (!ids) {
		err = maps ? -ENOMEM : -ESRCH;
		forget(u, slot);
		goto out;
	}
	build(u, pid, maps, ids, &n_ids);
	if (bpf_map_update_elem(u->procs_fd, &pid, u->scratch, BPF_ANY)) {
		err = -errno;
		for (uint32_t i = 0; i < n_ids; i++)
			unwind_bin__unref(u, ids[i]);
		forget(u, slot);
		goto out;
	}
	if (slot->ids)
		u->st.refreshes++;
	release_ids(u, slot); /* the old references, after the new ones are held */
	slot->ids = ids;
	slot->n_ids = n_ids;
	ids = NULL;
	err = 0;
out:
	free(ids);
	procmaps__free(maps);
	return err;
}

void unwinder__sweep(struct unwinder *u)
{
	int64_t now = mono_ms();

	if (!u->pids || now - u->last_sweep_ms < SWEEP_MS)
		return;
	u->last_sweep_ms = now;
	for (uint32_t i = 0; i < UNWIND_MAX_PROCS; i++)
		if (u->pids[i].pid && !proc__alive(u->pids[i].pid))
			forget(u, &u->pids[i]);
}

int unwinder__handle_event(void *ctx, void *data, size_t size)
{
	const struct unwind_event *e = data;

	if (size >= sizeof(*e))
		unwinder__add_pid(ctx, e->tgid);
	return 0;
}

void unwinder__defer_pid(struct unwinder *u, uint32_t pid)
{
	if (!u)
		return;
	for (uint32_t i = 0; i < u->n_pending; i++)
		if (u->pending[i] == pid)
			return;
	if (u->n_pending < UNWIND_PENDING_PIDS)
		u->pending[u->n_pending++] = pid;
	else
		unwinder__add_pid(u, pid);
}

/*
 * Tabling many new processes at once (a whole-system start, a burst of
 * execs) takes seconds of compiling; meanwhile nobody reads the notices, and
 * a short-lived process exits before its maps are captured. So a flush stops
 * after this long and leaves the rest queued for the next poll.
 */
#define UNWIND_FLUSH_BUDGET_NS (20 * CLOCK_NS_PER_MS)

void unwinder__flush(struct unwinder *u)
{
	int64_t until;
	uint32_t done = 0;

	if (!u || !u->n_pending)
		return;
	until = clock__ns(CLOCK_MONOTONIC) + UNWIND_FLUSH_BUDGET_NS;
	while (done < u->n_pending) {
		unwinder__add_pid(u, u->pending[done++]);
		if (clock__ns(CLOCK_MONOTONIC) >= until)
			break;
	}
	memmove(u->pending, u->pending + done, (u->n_pending - done) * sizeof(u->pending[0]));
	u->n_pending -= done;
}

uint32_t unwinder__pending(const struct unwinder *u)
{
	return u ? u->n_pending : 0;
}

int unwind_stack__read(int fd, uint64_t hash, struct unwind_stack *buf, uint64_t *frames,
		       uint32_t *reason)
{
	size_t n;

	*reason = 0;
	if (!hash || bpf_map_lookup_elem(fd, &hash, buf))
		return -ENOENT;
	n = buf->len < MAX_STACK_DEPTH ? buf->len : MAX_STACK_DEPTH;
	memcpy(frames, buf->frames, n * sizeof(uint64_t));
	*reason = buf->reason;
	return n;
}

void unwind_pids__free(struct unwinder *u)
{
	if (!u->pids)
		return;
	for (uint32_t i = 0; i < UNWIND_MAX_PROCS; i++)
		free(u->pids[i].ids);
	free(u->pids);
	u->pids = NULL;
}
