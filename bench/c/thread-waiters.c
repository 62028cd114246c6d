/*
 * thread-waiters: a process with <n> threads, each blocked in epoll_pwait on one shared instance (as a thread pool
 * waits), for timing Get-MultiplexerWait's scan. Prints "<pid>" once every thread is in its wait, and exits when
 * stdin closes.
 *   thread-waiters <n>
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ep;
static volatile int started;

static void *waiter(void *arg)
{
    struct epoll_event events[8];
    __sync_fetch_and_add(&started, 1);
    for (;;)
        syscall(SYS_epoll_pwait, ep, events, 8, -1, NULL, 8);
    return arg;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: thread-waiters <n>\n");
        return 2;
    }
    int n = atoi(argv[1]);
    ep = epoll_create1(0);
    int efd = eventfd(0, 0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };
    if (ep < 0 || efd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0)
        return 1;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < n; i++) {
        pthread_t thread;
        if (pthread_create(&thread, &attr, waiter, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    }

    /* Every thread has started; give the last ones time to get into the call. */
    while (started < n)
        usleep(1000);
    usleep(200000);
    printf("%d\n", getpid());
    fflush(stdout);

    char buffer[16];
    while (read(0, buffer, sizeof buffer) > 0) {
    }
    return 0;
}
