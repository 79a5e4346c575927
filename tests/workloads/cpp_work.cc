// cpp_work: C++ workload whose hot code sits in a namespace, a class and a
// template, so the profile must show demangled names such as
// ns::Worker::crunch(int) and ns::Accumulator<double>::add(double).
// Usage: cpp_work [SECONDS]   (default: run until killed)
#include <chrono>
#include <cstdint>
#include <cstdlib>

namespace ns {

template <typename T> class Accumulator {
public:
	__attribute__((noinline)) void add(T v)
	{
		for (int i = 0; i < 2000; i++) {
			sum_ = sum_ * T(0.999) + v;
			asm volatile("" : "+m"(sum_));
		}
	}
	T sum() const { return sum_; }

private:
	T sum_ = T();
};

class Worker {
public:
	__attribute__((noinline)) uint64_t crunch(int n)
	{
		uint64_t x = state_;
		for (int i = 0; i < n; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			asm volatile("" : "+r"(x));
		}
		state_ = x;
		return x;
	}

private:
	uint64_t state_ = 1;
};

} // namespace ns

volatile uint64_t g_sink;

int main(int argc, char **argv)
{
	double secs = argc > 1 ? std::atof(argv[1]) : 0;
	auto start = std::chrono::steady_clock::now();
	ns::Worker w;
	ns::Accumulator<double> acc;
	for (;;) {
		for (int k = 0; k < 100; k++) {
			g_sink = w.crunch(200000);
			acc.add(double(k));
		}
		g_sink = g_sink + uint64_t(acc.sum());
		if (secs > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= secs)
			break;
	}
	return 0;
}
