// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * C++ operator new/delete through the heap sampler at R=1 (run with
 * LD_PRELOAD=build/libbpfprof-heap.so BPFPROF_HEAP_RATE=1): each of the 20
 * operators is called once, every new is sampled exactly once (the real
 * operator new calling malloc inside must not count twice) and every delete
 * of a sampled block is seen; a throwing new leaves sampling working.
 */
#include <cstdint>
#include <new>
#include <vector>

#include "hs_test.h"

struct alignas(64) Wide {
	char b[64];
};

static volatile size_t huge = SIZE_MAX / 4;

int main()
{
	const std::align_val_t al{64};
	struct hs_snap a, b;
	void *p[8];
	int news = 0;

	a = hs_snap();
	p[0] = ::operator new(100), news++;
	p[1] = ::operator new[](200), news++;
	p[2] = ::operator new(300, std::nothrow), news++;
	p[3] = ::operator new[](400, std::nothrow), news++;
	p[4] = ::operator new(128, al), news++;
	p[5] = ::operator new[](256, al), news++;
	p[6] = ::operator new(64, al, std::nothrow), news++;
	p[7] = ::operator new[](192, al, std::nothrow), news++;
	b = hs_snap();
	for (int i = 4; i < 8; i++)
		CHECK((uintptr_t)p[i] % 64 == 0);
	CHECK_EQ(b.sampled - a.sampled, news);
	CHECK_EQ(b.bytes - a.bytes, 100 + 200 + 300 + 400 + 128 + 256 + 64 + 192);
	CHECK_EQ(b.live - a.live, news);

	a = hs_snap();
	::operator delete(p[0]);
	::operator delete[](p[1]);
	::operator delete(p[2], std::nothrow);
	::operator delete[](p[3], std::nothrow);
	::operator delete(p[4], al);
	::operator delete[](p[5], al);
	::operator delete(p[6], al, std::nothrow);
	::operator delete[](p[7], al, std::nothrow);
	b = hs_snap();
	CHECK_EQ(b.freed - a.freed, news);
	CHECK_EQ(b.live, a.live - news);

	/* The sized forms. */
	a = hs_snap();
	p[0] = ::operator new(40);
	p[1] = ::operator new[](50);
	p[2] = ::operator new(64, al);
	p[3] = ::operator new[](128, al);
	::operator delete(p[0], 40);
	::operator delete[](p[1], 50);
	::operator delete(p[2], 64, al);
	::operator delete[](p[3], 128, al);
	b = hs_snap();
	CHECK_EQ(b.sampled - a.sampled, 4);
	CHECK_EQ(b.freed - a.freed, 4);

	/* Ordinary code: a vector growing, objects with new-expressions. */
	a = hs_snap();
	{
		std::vector<int> v;
		for (int i = 0; i < 1000; i++)
			v.push_back(i);
		Wide *w = new Wide[3];
		int *x = new int(7);
		delete x;
		delete[] w;
	}
	b = hs_snap();
	CHECK(b.sampled - a.sampled >= 3);
	CHECK_EQ(b.freed - a.freed, b.sampled - a.sampled);

	/* A failing new throws through the library's frame; sampling must go on. */
	bool threw = false;
	try {
		void *big = ::operator new(huge);
		::operator delete(big);
	} catch (const std::bad_alloc &) {
		threw = true;
	}
	CHECK(threw);
	CHECK(::operator new(huge, std::nothrow) == nullptr);
	a = hs_snap();
	p[0] = ::operator new(24);
	p[1] = malloc(24);
	b = hs_snap();
	CHECK_EQ(b.sampled - a.sampled, 2);
	::operator delete(p[0]);
	free(p[1]);
	puts("cxx: ok");
	return 0;
}
