/*
 * The C loops the benchmark suite compares the C# core with. They are built twice in each run: into the epoll-ops
 * program, and into a shared library the suite calls once per measurement from inside its own process, so that the
 * same loop is also timed in the same process (same address space, same threads, same cache state) as the C# core.
 */
#include <sys/epoll.h>
#include <time.h>

#include "epoll-loops.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double epoll_ops_loop(int ep, int efd, long iterations)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = efd }, out[4];
    double start = now_ns();
    for (long i = 0; i < iterations; i++) {
        ev.events = EPOLLIN;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0)
            return -1;
        ev.events = EPOLLIN | EPOLLOUT;
        if (epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) < 0)
            return -1;
        if (epoll_wait(ep, out, 4, 0) != 1)
            return -1;
        if (epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL) < 0)
            return -1;
    }
    return (now_ns() - start) / iterations;
}

double epoll_add_loop(int ep, const int *fds, long count)
{
    double start = now_ns();
    for (long i = 0; i < count; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = fds[i] };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
            return -1;
    }
    return (now_ns() - start) / count;
}
