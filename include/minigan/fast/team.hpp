// fast/team.hpp - one parallel region for a whole training step, and a cheap hand-off inside it.
//
// Read parallel.hpp and fast/parallel_chunks.hpp first. A training step of the demo cuts ~55
// passes in two (GEMMs, layout copies, BatchNorm, ...), and each cut is an OpenMP parallel region.
// Under OMP_WAIT_POLICY=PASSIVE the second thread sleeps between regions, and waking it costs
// ~40-80 us on a VM (benchmarks/fork_join.cpp, docs/performance.md): a tenth of a demo step.
//
// on_team(step) runs the step on the calling thread (the "leader") inside ONE parallel region,
// while the other threads of the region wait for pieces of work. gan::train_step and gan::sample
// (a batch of samples) use it. team_fork(T, piece) hands
// piece(t, T) to threads t = 1..T-1 and runs piece(0, T) itself; a waiting thread first spins
// for a short while (it is then already awake for the next piece), and sleeps on a condition
// variable after that. parallel_chunks / parallel_items, split_units (conv_taps.hpp), gemm
// (blas.hpp) and im2col.hpp's for_each_image give their pieces to the team when one is running:
// GEMMs cut as they would be otherwise, elementwise passes from a smaller grain
// (kTeamGrainDivisor), which computes the same numbers. Other loops of the reference
// (MINIGAN_PARALLEL_FOR) run on the leader alone inside a team.
//
// It is on under every OMP_WAIT_POLICY (step_team_enabled below). Spinning takes a
// core: when another program wants the cores, the team's threads are preempted (involuntary
// context switches, counted with getrusage) and spinning would steal time from the leader. A
// step that saw more than kBusySwitches of them is followed by a step without spinning, whose
// hand-offs wake a sleeper as PASSIVE does; an idle 2-core machine shows ~3 a step, a busy one
// over 100.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include "../dispatch.hpp"
#include "../parallel.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MINIGAN_CPU_RELAX() _mm_pause()
#else
#define MINIGAN_CPU_RELAX() std::this_thread::yield()
#endif
#if defined(__linux__)
#include <sys/resource.h>
#endif

// How long a waiting thread spins before it sleeps, in microseconds.
#ifndef MINIGAN_TEAM_SPIN_US
#define MINIGAN_TEAM_SPIN_US 1000
#endif

namespace minigan::fast {

// Inside a team that spins, a hand-off costs a few microseconds instead of a wake-up (~40-80 us),
// so elementwise passes, BatchNorm and layout copies split there from a grain this many times
// smaller (parallel_chunks.hpp): the best of 1, 8 and 32 on the demo's step. (GEMMs keep their
// 4 MFLOP a block: splitting smaller ones measured no faster, and a GEMM cut differently may
// round differently, while a pass cut differently computes the same numbers.)
inline constexpr size_t kTeamGrainDivisor = 8;

// Under OMP_WAIT_POLICY=PASSIVE the team replaces wake-ups. Under libgomp's default policy (spin
// a while, then sleep) or ACTIVE, libgomp's own regions are already cheap on an idle machine (the
// team measured the same there), but its threads keep spinning when another program wants the
// core: a 2-thread demo step on a busy machine ran 4-5 times slower than on the team, which stops
// spinning then. So it is on under every policy unless the environment sets MINIGAN_NO_STEP_TEAM;
// tests set it directly (the results are the same either way).
inline bool& step_team_enabled() {
    static bool enabled = !std::getenv("MINIGAN_NO_STEP_TEAM");
    return enabled;
}

class Team {
public:
    explicit Team(double spin_us) : spin_us_(spin_us) {}

    // The team the calling thread leads, if it leads one and is not inside a piece.
    static Team* led_here() {
        Team* t = current();
        return t && !in_piece() ? t : nullptr;
    }
    int size() const { return size_; }
    bool spins() const { return spin_us_ > 0; }

    // piece(t, T) for t in [0, T), T = min(pieces, size()); this thread runs t = 0. Returns
    // when every piece is done.
    template <class Piece>
    void fork(int pieces, Piece& piece) {
        const int T = std::min(pieces, size_);
        job_ = [](void* p, int t, int n) { (*static_cast<Piece*>(p))(t, n); };
        job_data_ = &piece;
        job_threads_ = T;
        unfinished_.store(T - 1);
        generation_.fetch_add(1);  // publishes the job (sequentially consistent, as `sleepers_`)
        if (sleepers_.load() > 0) {
            std::lock_guard<std::mutex> lock(mutex_);
            wake_.notify_all();
        }
        in_piece() = true;
        std::exception_ptr error;
        try {
            piece(0, T);
        } catch (...) {  // the other pieces still use `piece`: wait for them before rethrowing
            error = std::current_exception();
        }
        in_piece() = false;
        for (int spins = 0; unfinished_.load(std::memory_order_acquire) != 0; ++spins) {
            if (spins < 4096) MINIGAN_CPU_RELAX();
            else std::this_thread::yield();
        }
        if (error) std::rethrow_exception(error);
    }

    // Runs body() as the leader of a team of all OpenMP threads; rethrows what body throws.
    template <class Body>
    void lead(Body& body) {
        std::exception_ptr error;
#ifdef _OPENMP
#pragma omp parallel num_threads(num_threads())
        {
            const int t = omp_get_thread_num();  // 0: the calling thread, which leads
            if (t == 0) size_ = omp_get_num_threads();
#pragma omp barrier  // every thread sees size_ from here on
            const long switches_before = involuntary_switches();
            if (t == 0) {
                current() = this;
                try {
                    body();
                } catch (...) {
                    error = std::current_exception();
                }
                current() = nullptr;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    stop_.store(true);
                }
                wake_.notify_all();
            } else {
                wait_for_pieces(t);
            }
            switches_.fetch_add(involuntary_switches() - switches_before);
        }
#else
        body();
#endif
        if (error) std::rethrow_exception(error);
    }
    long involuntary_switches_seen() const { return switches_.load(); }

private:
    static Team*& current() {  // per thread: the team this thread leads, if any
        static thread_local Team* team = nullptr;
        return team;
    }
    static bool& in_piece() {
        static thread_local bool inside = false;
        return inside;
    }
    static long involuntary_switches() {  // of the calling thread, since it started
#if defined(__linux__) && defined(RUSAGE_THREAD)
        rusage usage{};
        getrusage(RUSAGE_THREAD, &usage);
        return usage.ru_nivcsw;
#else
        return 0;
#endif
    }

    // A non-leader thread: run every piece addressed to it until the leader says stop.
    void wait_for_pieces(int t) {
        unsigned seen = 0;
        for (;;) {
            const auto start = std::chrono::steady_clock::now();
            for (int spins = 1; generation_.load(std::memory_order_acquire) == seen && !stop_.load(); ++spins) {
                const bool spun_enough =
                    spins % 64 == 0 &&
                    std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() >= spin_us_;
                if (spun_enough || spin_us_ <= 0) {
                    sleepers_.fetch_add(1);  // before reading generation_ again (see fork)
                    std::unique_lock<std::mutex> lock(mutex_);
                    wake_.wait(lock, [&] { return generation_.load() != seen || stop_.load(); });
                    sleepers_.fetch_sub(1);
                    break;
                }
                MINIGAN_CPU_RELAX();
            }
            if (generation_.load() == seen) return;  // stopped, no job left
            seen = generation_.load();
            if (t < job_threads_) {
                in_piece() = true;
                job_(job_data_, t, job_threads_);
                in_piece() = false;
                unfinished_.fetch_sub(1, std::memory_order_acq_rel);
            }
        }
    }

    const double spin_us_;
    int size_ = 1;
    // The current job: job_(job_data_, t, job_threads_). Written by the leader before it bumps
    // generation_, read by the others after they see the new generation.
    void (*job_)(void*, int, int) = nullptr;
    void* job_data_ = nullptr;
    int job_threads_ = 0;
    std::atomic<unsigned> generation_{0};
    std::atomic<int> unfinished_{0};
    std::atomic<int> sleepers_{0};
    std::atomic<bool> stop_{false};
    std::atomic<long> switches_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
};

// Cut into `pieces` on the team this thread leads: piece(t, T). False (and nothing run) when
// there is no such team; the caller then does what it does without one.
// How many times team_fork has handed work to a team in this program (tests read it).
inline std::atomic<long>& team_forks() {
    static std::atomic<long> forks{0};
    return forks;
}

template <class Piece>
inline bool team_fork(int pieces, Piece&& piece) {
    Team* team = Team::led_here();
    if (!team) return false;
    team->fork(pieces, piece);
    team_forks().fetch_add(1, std::memory_order_relaxed);
    return true;
}
inline int team_size() {
    Team* team = Team::led_here();
    return team ? team->size() : 0;
}
// What parallel_chunks divides its grain by here: kTeamGrainDivisor in a team that spins, else 1
// (without the spin every hand-off wakes a sleeper again, and finer pieces cost more than they save).
inline size_t team_grain_divisor() {
    Team* team = Team::led_here();
    return team && team->spins() ? kTeamGrainDivisor : 1;
}

// True where on_team would start a team: on the fast path (not in a ReferencePath scope), more
// than one thread, not already inside a parallel region (or a team), nested regions off (the
// reference's loops then stay on the leader), and no OpenCL device (it serves gemm calls made
// outside parallel regions only).
inline bool team_wanted() {
#if defined(_OPENMP) && !defined(MINIGAN_OPENCL)
    return fast_path() && step_team_enabled() && num_threads() > 1 && !in_parallel_region() && omp_get_max_active_levels() <= 1;
#else
    return false;
#endif
}

// Runs step() on a team and returns its result. A step during which the team's threads were
// preempted more than kBusySwitches times makes the next step's team sleep instead of spinning.
template <class Step>
inline auto on_team(Step&& step) {
    constexpr long kBusySwitches = 16;
    static std::atomic<bool> machine_busy{false};
    Team team(machine_busy.load() ? 0.0 : MINIGAN_TEAM_SPIN_US);
    decltype(step()) result{};
    auto body = [&] { result = step(); };
    team.lead(body);
    machine_busy.store(team.involuntary_switches_seen() > kBusySwitches);
    return result;
}

}  // namespace minigan::fast
