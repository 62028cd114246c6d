/*
 * The C baseline of the benchmark suite: the same epoll work the C# core does, timed the same way.
 *   epoll-ops ops <iterations>      one ADD, MOD, wait (one ready eventfd, timeout 0) and DEL per iteration
 *   epoll-ops add <count>           ADD <count> eventfds to one instance
 * Prints nanoseconds per iteration (ops) or per ADD (add).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: epoll-ops ops|add <n>\n");
        return 2;
    }
    long n = atol(argv[2]);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        fail("epoll_create1");

    if (strcmp(argv[1], "ops") == 0) {
        int efd = eventfd(1, EFD_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = efd }, out[4];
        double start = now_ns();
        for (long i = 0; i < n; i++) {
            ev.events = EPOLLIN;
            if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0)
                fail("add");
            ev.events = EPOLLIN | EPOLLOUT;
            if (epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev) < 0)
                fail("mod");
            if (epoll_wait(ep, out, 4, 0) != 1)
                fail("wait");
            if (epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL) < 0)
                fail("del");
        }
        printf("%.1f\n", (now_ns() - start) / n);
        return 0;
    }

    int *fds = malloc(sizeof(int) * n);
    for (long i = 0; i < n; i++)
        if ((fds[i] = eventfd(0, EFD_CLOEXEC)) < 0)
            fail("eventfd");
    double start = now_ns();
    for (long i = 0; i < n; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = fds[i] };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
            fail("add");
    }
    printf("%.1f\n", (now_ns() - start) / n);
    return 0;
}
