/*
 * epoll-pingpong: the loop the exact-trace benchmark runs untraced, under Measure-MultiplexerWait, under
 * Trace-EpollInterest -Exact and under strace. A parent and its forked child pass one byte back and forth over a
 * socket pair, each side in its own epoll instance with EPOLLIN|EPOLLONESHOT, re-armed with EPOLL_CTL_MOD after each
 * byte: per round trip, each side makes one epoll_wait, one read, one epoll_ctl and one write.
 *
 *   epoll-pingpong <round trips> [cpu]
 *
 * With a cpu, both processes run on it alone: each round trip is then two context switches on one CPU, not two
 * wakeups across CPUs, whose cost on a virtual machine is large and varies from run to run more than tracing costs.
 *
 * Prints "pids <parent> <child>", waits for a line on its standard input (a tracer attached meanwhile), runs, and
 * prints the time per round trip in nanoseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static int watch(int fd)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.fd = fd };
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        fail("epoll");
    return ep;
}

/* One side's turn: wait for the byte, read it, re-arm, and (if it serves) send one back. */
static void turn(int ep, int fd, int serve)
{
    struct epoll_event ev;
    char byte;
    while (epoll_wait(ep, &ev, 1, -1) != 1)
        if (errno != EINTR)
            fail("epoll_wait");
    if (read(fd, &byte, 1) != 1)
        fail("read");
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
        fail("epoll_ctl MOD");
    if (serve && write(fd, &byte, 1) != 1)
        fail("write");
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    if (argc > 2) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(atoi(argv[2]), &one);
        if (sched_setaffinity(0, sizeof one, &one) < 0)
            fail("sched_setaffinity");
    }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
        fail("socketpair");
    pid_t child = fork();
    if (child < 0)
        fail("fork");
    if (child == 0) {
        close(pair[0]);
        int ep = watch(pair[1]);
        for (long i = 0; i < n; i++)
            turn(ep, pair[1], 1);
        _exit(0);
    }
    close(pair[1]);
    int ep = watch(pair[0]);
    printf("pids %d %d\n", (int)getpid(), (int)child);
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 1;

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < n; i++) {
        if (write(pair[0], "x", 1) != 1)
            fail("write");
        turn(ep, pair[0], 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    waitpid(child, NULL, 0);
    printf("%.1f\n", ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / n);
    return 0;
}
