/*
 * stuck-shapes: a process stuck in one of the ways Get-MultiplexerWait and Get-EpollInterest diagnose, to practise
 * on (docs/debugging-a-stuck-process.md) and for the module's tests. It sets the shape up, starts its waiting
 * threads, prints "name value" lines (its pid, its fds) and "ready" once every waiter is blocked, and exits when
 * its standard input closes.
 *
 *   gcc -O2 -o stuck-shapes stuck-shapes.c -lpthread
 *   ./stuck-shapes <shape>
 *
 * Shapes:
 *   oneshot        an eventfd registered EPOLLONESHOT fired and was never re-armed; it is readable again
 *   edge           a socket registered EPOLLET: the reader took 10 of 100 bytes after the edge, then waited
 *   writer-gone    a pipe registered EPOLLET whose only writer (a child) wrote a byte and exited
 *   readers-gone   a pipe's write end registered EPOLLOUT|EPOLLET after its read end was closed
 *   closed-fd      the only registration is a dup of an eventfd, closed without EPOLL_CTL_DEL
 *   empty          a thread waits on an epoll instance with nothing registered
 *   herd           three threads wait on one instance where a listening socket is level-triggered
 *   forked-herd    as herd, one waiter in this process and one in each of two forked children: the instance is
 *                  shared after fork (prefork servers), so each process's wait is one of three
 *   exclusive-mix  one listening socket in three instances, two EPOLLEXCLUSIVE and one not, a thread on each
 *   poll-socket    a thread in poll() on a connected TCP socket that nothing is written to
 *   unwatched      a connection taken out of the instance (EPOLL_CTL_DEL, as flow control pauses a reader) while
 *                  100 bytes wait in it; the loop waits on the instance for another connection
 *   spinner        not stuck but never resting: the loop polls its instance (an eventfd nothing writes) with a zero
 *                  timeout, then sleeps 1 ms, and again: hundreds of wakeups a second for nothing
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "../tests/fixtures/fixture.h"

/* One event loop's wait, without blocking: what a program does when it handles what is ready. */
static int take_events(int epfd)
{
    struct epoll_event events[8];
    return check(epoll_wait(epfd, events, 8, 0), "epoll_wait");
}

/* epoll_pwait by its raw number on every architecture (arm64 has no epoll_wait), so the call is known exactly. */
struct waiter { const char *name; int epfd; };

static void *epoll_waiter(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event events[8];
    enter(w->name, SYS_epoll_pwait);
    for (;;)
        syscall(SYS_epoll_pwait, w->epfd, events, 8, -1, NULL, 8);
    return NULL;
}

static void start_waiter(const char *name, int epfd)
{
    struct waiter *w = malloc(sizeof *w);
    pthread_t thread;
    w->name = name;
    w->epfd = epfd;
    if (pthread_create(&thread, NULL, epoll_waiter, w) != 0)
        die("pthread_create");
}

static int polled_fd;

static void *spinner(void *arg)
{
    int epfd = *(int *)arg;
    enter("loop", SYS_clock_nanosleep);
    for (;;) {
        take_events(epfd);
        usleep(1000);
    }
    return NULL;
}

static void *poll_waiter(void *arg)
{
    struct pollfd entry = { .fd = polled_fd, .events = POLLIN };
    enter("poller", SYS_ppoll);
    for (;;)
        syscall(SYS_ppoll, &entry, 1, NULL, NULL, 8);
    return arg;
}

static int tcp_listener(int *port)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int fd = check(socket(AF_INET, SOCK_STREAM, 0), "socket");
    check(bind(fd, (struct sockaddr *)&addr, sizeof addr), "bind");
    check(listen(fd, 16), "listen");
    check(getsockname(fd, (struct sockaddr *)&addr, &len), "getsockname");
    *port = ntohs(addr.sin_port);
    return fd;
}

/* Sets the shape up and starts its waiters; returns how many threads will block. */
static int set_up(const char *shape)
{
    int ep = check(epoll_create1(0), "epoll_create1");
    if (strcmp(shape, "oneshot") == 0) {
        int efd = check(eventfd(0, 0), "eventfd");
        watch(ep, efd, EPOLLIN | EPOLLONESHOT, 0x1001);
        check((int)write(efd, &(unsigned long long){ 1 }, 8), "write eventfd");
        take_events(ep); /* fires and disarms; the handler forgets EPOLL_CTL_MOD */
        check((int)write(efd, &(unsigned long long){ 1 }, 8), "write eventfd");
        printf("epoll %d\neventfd %d\n", ep, efd);
    } else if (strcmp(shape, "edge") == 0) {
        int pair[2];
        char data[100] = { 0 };
        check(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), "socketpair");
        watch(ep, pair[0], EPOLLIN | EPOLLET, 0x2002);
        check((int)write(pair[1], data, sizeof data), "write socket");
        take_events(ep);
        check((int)read(pair[0], data, 10), "read socket"); /* stops before EAGAIN: 90 bytes stay */
        printf("epoll %d\nsocket %d\npeer %d\nunread %d\n", ep, pair[0], pair[1], (int)sizeof data - 10);
    } else if (strcmp(shape, "writer-gone") == 0) {
        int p[2];
        char byte;
        check(pipe(p), "pipe");
        watch(ep, p[0], EPOLLIN | EPOLLET, 0x3003);
        pid_t writer = check(fork(), "fork");
        if (writer == 0) {
            close(p[0]);
            _exit(write(p[1], "x", 1) == 1 ? 0 : 1);
        }
        close(p[1]);
        check(waitpid(writer, NULL, 0), "waitpid");
        take_events(ep);
        check((int)read(p[0], &byte, 1), "read pipe"); /* takes the data, ignores the hang-up */
        printf("epoll %d\npipe_read %d\nwriter %d\n", ep, p[0], (int)writer);
    } else if (strcmp(shape, "readers-gone") == 0) {
        int p[2];
        check(pipe(p), "pipe");
        close(p[0]);
        watch(ep, p[1], EPOLLOUT | EPOLLET, 0x4004);
        take_events(ep);
        printf("epoll %d\npipe_write %d\n", ep, p[1]);
    } else if (strcmp(shape, "closed-fd") == 0) {
        int efd = check(eventfd(0, 0), "eventfd");
        int copy = check(dup(efd), "dup");
        watch(ep, copy, EPOLLIN, 0x5005);
        close(copy); /* no EPOLL_CTL_DEL: the registration lives on with the file, open as efd */
        printf("epoll %d\neventfd %d\nclosed %d\n", ep, efd, copy);
    } else if (strcmp(shape, "empty") == 0) {
        printf("epoll %d\n", ep);
    } else if (strcmp(shape, "herd") == 0) {
        int port, listener = tcp_listener(&port);
        watch(ep, listener, EPOLLIN, 0x7007);
        start_waiter("worker-1", ep);
        start_waiter("worker-2", ep);
        start_waiter("worker-3", ep);
        printf("epoll %d\nlistener %d\nport %d\n", ep, listener, port);
        return 3;
    } else if (strcmp(shape, "forked-herd") == 0) {
        int port, listener = tcp_listener(&port);
        watch(ep, listener, EPOLLIN, 0x7117);
        for (int i = 1; i <= 2; i++) {
            pid_t child = check(fork(), "fork");
            if (child == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL); /* goes with the parent, whose stdin ends the shape */
                struct waiter w = { i == 1 ? "child-1" : "child-2", ep };
                epoll_waiter(&w);
            }
            printf("child_%d %d\n", i, (int)child);
        }
        printf("epoll %d\nlistener %d\nport %d\n", ep, listener, port);
        start_waiter("parent", ep);
        return 1;
    } else if (strcmp(shape, "exclusive-mix") == 0) {
        int port, listener = tcp_listener(&port);
        int second = check(epoll_create1(0), "epoll_create1");
        int plain = check(epoll_create1(0), "epoll_create1");
        watch(ep, listener, EPOLLIN | EPOLLEXCLUSIVE, 0x8001);
        watch(second, listener, EPOLLIN | EPOLLEXCLUSIVE, 0x8002);
        watch(plain, listener, EPOLLIN, 0x8003);
        start_waiter("exclusive-1", ep);
        start_waiter("exclusive-2", second);
        start_waiter("plain", plain);
        printf("epoll_exclusive_1 %d\nepoll_exclusive_2 %d\nepoll_plain %d\nlistener %d\nport %d\n", ep, second, plain, listener, port);
        return 3;
    } else if (strcmp(shape, "unwatched") == 0) {
        int paused[2], other[2];
        char data[100] = { 0 };
        check(socketpair(AF_UNIX, SOCK_STREAM, 0, paused), "socketpair");
        check(socketpair(AF_UNIX, SOCK_STREAM, 0, other), "socketpair");
        watch(ep, paused[0], EPOLLIN, 0x9009);
        watch(ep, other[0], EPOLLIN, 0x900a);
        check(epoll_ctl(ep, EPOLL_CTL_DEL, paused[0], NULL), "epoll_ctl(EPOLL_CTL_DEL)"); /* paused, never resumed */
        check((int)write(paused[1], data, sizeof data), "write socket");
        printf("epoll %d\nsocket %d\nwatched %d\n", ep, paused[0], other[0]);
    } else if (strcmp(shape, "poll-socket") == 0) {
        int port, listener = tcp_listener(&port);
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port) };
        int client = check(socket(AF_INET, SOCK_STREAM, 0), "socket");
        check(connect(client, (struct sockaddr *)&addr, sizeof addr), "connect");
        polled_fd = check(accept(listener, NULL, NULL), "accept");
        pthread_t thread;
        if (pthread_create(&thread, NULL, poll_waiter, NULL) != 0)
            die("pthread_create");
        printf("socket %d\nclient %d\nport %d\n", polled_fd, client, port);
        return 1;
    } else if (strcmp(shape, "spinner") == 0) {
        static int spun;
        spun = ep;
        watch(ep, check(eventfd(0, 0), "eventfd"), EPOLLIN, 0xb00b);
        pthread_t thread;
        if (pthread_create(&thread, NULL, spinner, &spun) != 0)
            die("pthread_create");
        printf("epoll %d\n", ep);
        return 1; /* between its polls, in clock_nanosleep */
    } else {
        fprintf(stderr, "stuck-shapes: unknown shape '%s'\n", shape);
        exit(2);
    }

    start_waiter("loop", ep);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stuck-shapes oneshot|edge|writer-gone|readers-gone|closed-fd|empty|herd|forked-herd|exclusive-mix|poll-socket|unwatched|spinner\n");
        return 2;
    }

    /* Start from fds 0-2 only, so that the fd numbers do not depend on what the parent left open. */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);

    printf("pid %d\n", (int)getpid());
    wait_until_blocked(set_up(argv[1]));
    printf("ready\n");
    fflush(stdout);

    char buffer[16];
    while (read(0, buffer, sizeof buffer) > 0) {
    }
    return 0;
}
