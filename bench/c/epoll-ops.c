/*
 * The C baseline of the benchmark suite as a program of its own: the loops of epoll-loops.c on fresh fds.
 *   epoll-ops ops <iterations>      one ADD, MOD, wait (one ready eventfd, timeout 0) and DEL per iteration
 *   epoll-ops add <count>           ADD <count> eventfds to one instance
 * With a third argument "threaded", an idle second thread is started first: the kernel takes a reference on the
 * file in every fd lookup once the fd table is shared (fs/file.c, fdget), which a .NET process always pays.
 * Prints nanoseconds per iteration (ops) or per ADD (add).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "epoll-loops.h"

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void *idle(void *unused)
{
    (void)unused;
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (strcmp(argv[1], "ops") != 0 && strcmp(argv[1], "add") != 0) ||
        (argc == 4 && strcmp(argv[3], "threaded") != 0)) {
        fprintf(stderr, "usage: epoll-ops ops|add <n> [threaded]\n");
        return 2;
    }
    pthread_t thread;
    if (argc == 4 && pthread_create(&thread, NULL, idle, NULL) != 0)
        fail("pthread_create");
    long n = atol(argv[2]);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        fail("epoll_create1");

    double ns;
    if (strcmp(argv[1], "ops") == 0) {
        int efd = eventfd(1, EFD_CLOEXEC);
        if (efd < 0)
            fail("eventfd");
        ns = epoll_ops_loop(ep, efd, n);
    } else {
        int *fds = malloc(sizeof(int) * n);
        for (long i = 0; i < n; i++)
            if ((fds[i] = eventfd(0, EFD_CLOEXEC)) < 0)
                fail("eventfd");
        ns = epoll_add_loop(ep, fds, n);
    }
    if (ns < 0)
        fail(argv[1]);
    printf("%.1f\n", ns);
    return 0;
}
