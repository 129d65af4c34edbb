// fork_join.cpp - what one OpenMP parallel region costs when the code between regions is serial.
//
//   OMP_WAIT_POLICY=PASSIVE build/benchmarks/fork_join --threads 2
//
// A training step of the demo opens ~55 parallel regions (docs/performance.md), with serial work
// between them. This times `rounds` iterations of: an empty parallel region, then `--gap-us`
// microseconds of serial busy work on the calling thread, and prints one JSON line with the cost
// of a region (time per iteration minus the gap), so the wait policies can be compared:
// PASSIVE (the worker sleeps at once and must be woken), unset (libgomp spins a while first),
// ACTIVE (it spins). Five repeats; the median is reported with the minimum and maximum.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <minigan/io/cli.hpp>
#include <minigan/parallel.hpp>

using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Busy work on this thread for `us` microseconds (a sleep would let the worker's core idle too).
static void spin_for(double us) {
    const Clock::time_point t0 = Clock::now();
    while (seconds_since(t0) * 1e6 < us) {
    }
}

int main(int argc, char** argv) {
    minigan::io::Cli cli("fork_join", "the cost of one OpenMP parallel region between serial work, as a JSON line.");
    cli.option("--threads", 2, "threads in each region");
    cli.option("--rounds", 2000, "regions timed per repeat");
    cli.option("--gap-us", 100.0, "serial work between two regions, in microseconds");
    cli.range("--threads", "[2, 1024]");
    cli.range("--rounds", "[1, 10000000]");
    cli.range("--gap-us", "[0, 1000000]");
    cli.finish(argc, argv);
    const int threads = cli.integer("--threads"), rounds = cli.integer("--rounds");
    const double gap_us = cli.number("--gap-us");
#ifndef _OPENMP
    std::fprintf(stderr, "fork_join: compiled without OpenMP (-fopenmp): there are no parallel regions to time\n");
    return 1;
#else
    minigan::set_num_threads(threads);
    volatile int sink = 0;
    std::vector<double> region_us;
    for (int repeat = 0; repeat < 6; ++repeat) {
        const Clock::time_point t0 = Clock::now();
        for (int i = 0; i < rounds; ++i) {
#pragma omp parallel num_threads(threads)
            { sink = sink + 1; }
            spin_for(gap_us);
        }
        const double per_iteration_us = seconds_since(t0) * 1e6 / rounds;
        if (repeat > 0) region_us.push_back(per_iteration_us - gap_us);  // repeat 0 starts the threads
    }
    std::sort(region_us.begin(), region_us.end());
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    std::printf("{\"threads\": %d, \"gap_us\": %.1f, \"rounds\": %d, \"region_us_median\": %.2f, \"region_us_min\": %.2f, "
                "\"region_us_max\": %.2f, \"omp_wait_policy\": \"%s\"}\n",
                threads, gap_us, rounds, region_us[region_us.size() / 2], region_us.front(), region_us.back(),
                policy ? policy : "unset");
    return 0;
#endif
}
