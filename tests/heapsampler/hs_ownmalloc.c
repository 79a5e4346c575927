// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An executable with its own malloc (the bump allocator of bumpalloc.c):
 * it never calls the preloaded library's, so bpfprof must probe its own
 * (`record -t heap -- hs_ownmalloc` falls back to uprobes).
 *   hs_ownmalloc [n]   after 1 s (the profiler attaches), allocates n (100)
 *                      blocks of 1 MiB, kept; prints "ready"; exits 1 s later
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bumpalloc.c"

static void *volatile sink;

__attribute__((noinline)) static void keep_own(int n)
{
	for (int i = 0; i < n; i++)
		sink = malloc(1 << 20);
}

int main(int argc, char **argv)
{
	sleep(1);
	keep_own(argc > 1 ? atoi(argv[1]) : 100);
	printf("ready\n");
	fflush(stdout);
	sleep(1);
	return 0;
}
