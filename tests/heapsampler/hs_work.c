// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A workload with known allocations that exits by itself, for
 * `bpfprof record -t heap -- CMD` (tests/integration/test_heapsampler.sh):
 *   hs_work [churn_mib] [live_mib] [wait_s] [linger_s]
 * sleeps wait_s (the profiler attaches), keeps live_mib MiB in 1 MiB blocks
 * (keep_live; HS_LIVE_BLOCK_MIB changes the size), pushes churn_mib MiB
 * through malloc/free in 64 KiB blocks (churn_once), prints "ready",
 * lingers linger_s, exits without freeing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB   (1024 * 1024)
#define BLOCK (64 * 1024)

static void *volatile sink;

/*
 * Size of keep_live's blocks (HS_LIVE_BLOCK_MIB, default 1). At the default
 * rate of 512 KiB a 1 MiB block is sampled with probability 1 - e^-2, so 64
 * of them estimate the live set within ~4.9 % (one sigma); 2 MiB blocks
 * (1 - e^-4) within ~2.4 %.
 */
static size_t live_block_mib = 1;

/* blocks comes from main, so this stack holds exactly the live blocks. */
__attribute__((noinline)) static void **keep_live(void **blocks, size_t mib)
{
	for (size_t i = 0; blocks && i < mib / live_block_mib; i++) {
		blocks[i] = malloc(live_block_mib * MIB);
		if (blocks[i])
			memset(blocks[i], 1, 4096);
	}
	return blocks;
}

__attribute__((noinline)) static void churn_once(void)
{
	char *p = malloc(BLOCK);

	if (p)
		p[0] = 1;
	sink = p;
	free(p);
}

int main(int argc, char **argv)
{
	size_t churn_mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	size_t live_mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;
	unsigned wait_s = argc > 3 ? (unsigned)atoi(argv[3]) : 1;
	unsigned linger_s = argc > 4 ? (unsigned)atoi(argv[4]) : 1;
	const char *block = getenv("HS_LIVE_BLOCK_MIB");

	if (block && strtoul(block, NULL, 10) > 0)
		live_block_mib = strtoul(block, NULL, 10);

	sleep(wait_s);
	sink = keep_live(calloc(live_mib ? live_mib : 1, sizeof(void *)), live_mib);
	for (size_t i = 0; i < churn_mib * (MIB / BLOCK); i++)
		churn_once();
	printf("ready\n");
	fflush(stdout);
	sleep(linger_s);
	return 0;
}
