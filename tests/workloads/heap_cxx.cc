// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * C++ heap workload: heap_cxx [live_mib] [wait_s]. Waits until a profiler's
 * probes are in malloc and free (at most wait_s s), then keep_objects() keeps
 * live_mib MiB in 1 MiB vectors made with new; churn_objects() news and
 * deletes small objects until killed.
 */
#include <cstdlib>
#include <unistd.h>
#include <vector>

#include "probed.h"

struct Block {
	char data[1 << 20];
};

static Block *volatile sink;

__attribute__((noinline)) static std::vector<Block *> *keep_objects(int mib)
{
	auto *v = new std::vector<Block *>();

	v->reserve(mib);
	for (int i = 0; i < mib; i++)
		v->push_back(new Block);
	return v;
}

__attribute__((noinline)) static void churn_objects()
{
	Block *b = new Block;

	sink = b;
	delete b;
}

int main(int argc, char **argv)
{
	int mib = argc > 1 ? atoi(argv[1]) : 32;

	void *fns[] = { (void *)malloc, (void *)free };

	wait_probed(fns, 2, argc > 2 ? atoi(argv[2]) : 1);
	auto *v = keep_objects(mib);
	for (;;) {
		churn_objects();
		usleep(1000);
	}
	delete v;
	return 0;
}
