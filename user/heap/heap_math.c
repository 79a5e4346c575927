// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The sampling math: unbiased scaling and the exponential gap table. */
#include <math.h>

#include "heap/heap_int.h"

double heap__scale(uint64_t size, uint64_t rate)
{
	double p;

	if (rate <= 1 || !size)
		return 1.0;
	/* P(sampled) of a block of size bytes under a Poisson process of mean gap rate. */
	p = -expm1(-(double)size / (double)rate);
	return p > 0 ? 1.0 / p : 1.0;
}

/* Integral of -ln(u) du from a to b, i.e. [u - u ln u] from a to b. */
static double int_neg_log(double a, double b)
{
	double fa = a > 0 ? a - a * log(a) : 0;
	double fb = b - b * log(b);

	return fb - fa;
}

void heap__exp_table(uint64_t rate, uint64_t *table, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double a = (double)i / n, b = (double)(i + 1) / n;
		double mean = int_neg_log(a, b) / (b - a);

		table[i] = (uint64_t)llround(mean * (double)rate);
		if (!table[i])
			table[i] = 1;
	}
}
