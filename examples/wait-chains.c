/*
 * wait-chains: processes that wait on each other through fds, to practise Get-WaitChain on
 * (docs/debugging-a-stuck-process.md) and for the module's tests. It starts the shape's processes, prints
 * "name pid" and "name fd" lines, "ready" once every waiter is blocked, and ends them all when its standard input
 * closes.
 *
 *   gcc -O2 -o wait-chains wait-chains.c -lpthread
 *   ./wait-chains <shape>
 *
 * Shapes:
 *   chain         reader blocks in read() on a pipe whose write end only middle holds; middle blocks in recv() on a
 *                 unix socket whose peer only relay holds; relay blocks in recv() on a loopback TCP connection whose
 *                 other side only last holds; last is stopped (SIGSTOP)
 *   deadlock      first reads a pipe only second writes, second reads a pipe only first writes: neither will write
 *   ring          three in a cycle through a pipe and a unix socket: one reads a pipe only two writes, two receives
 *                 on a unix socket whose peer only three holds, three reads a pipe only one writes
 *   writers-gone  waiter waits in epoll_wait on a pipe registered EPOLLET whose only writer exited; it took the
 *                 hang-up once and waits again
 *   self-held     waiter reads a pipe whose write end only it holds (it forgot to close its own copy)
 *   eventfd       waiter blocks in read() on an eventfd that signaller holds too (shared at fork); signaller sleeps
 *   wakeup        loop waits in epoll_wait on a listening socket and on the read end of its own wakeup pipe, whose
 *                 write end its second thread would write: an event loop at rest, no deadlock
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "../tests/fixtures/fixture.h"
#include <sys/syscall.h>

#define MAX_CHILDREN 4
static pid_t children[MAX_CHILDREN];
static int child_count;

/* Forks a process named name that keeps only the fds in keep (-1 ends the list) and runs body with them. */
static pid_t spawn(const char *name, const int *keep, void (*body)(const int *fds))
{
    pid_t pid = check(fork(), "fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* goes with the shape when its standard input closes */
        prctl(PR_SET_NAME, name);
        for (int fd = 3; fd < 1024; fd++) {
            int kept = 0;
            for (const int *k = keep; *k >= 0; k++)
                kept |= *k == fd;
            if (!kept)
                close(fd);
        }
        close(0);
        body(keep);
        _exit(0);
    }
    children[child_count++] = pid;
    printf("%s %d\n", name, (int)pid);
    return pid;
}

static void read_forever(const int *fds)
{
    char byte;
    for (;;)
        if (read(fds[0], &byte, 1) <= 0)
            pause();
}

static void recv_forever(const int *fds)
{
    char byte;
    for (;;)
        if (recv(fds[1], &byte, 1, 0) <= 0)
            pause();
}

/* A listening TCP socket on 127.0.0.1, on a port the kernel picks. */
static int tcp_listener(int *port)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int fd = check(socket(AF_INET, SOCK_STREAM, 0), "socket");
    check(bind(fd, (struct sockaddr *)&addr, sizeof addr), "bind");
    check(listen(fd, 4), "listen");
    check(getsockname(fd, (struct sockaddr *)&addr, &len), "getsockname");
    *port = ntohs(addr.sin_port);
    return fd;
}

static void sleep_forever(const int *fds)
{
    (void)fds;
    for (;;)
        sleep(3600);
}

static void read_counter_forever(const int *fds)
{
    unsigned long long count;
    for (;;)
        if (read(fds[0], &count, sizeof count) < 0)
            pause();
}

static void stop_self(const int *fds)
{
    (void)fds;
    for (;;)
        raise(SIGSTOP);
}

static void exit_at_once(const int *fds)
{
    (void)fds;
}

static void *sleeper(void *arg)
{
    enter("sleeper", SYS_nanosleep);
    for (;;)
        sleep(3600);
    return arg;
}

static void event_loop_forever(const int *fds)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, sleeper, NULL) != 0)
        die("pthread_create");
    int ep = check(epoll_create1(0), "epoll_create1");
    watch(ep, fds[0], EPOLLIN, 1);
    watch(ep, fds[2], EPOLLIN, 2);
    struct epoll_event events[4];
    for (;;)
        epoll_wait(ep, events, 4, -1);
}

static void epoll_edge_forever(const int *fds)
{
    int ep = check(epoll_create1(0), "epoll_create1");
    watch(ep, fds[0], EPOLLIN | EPOLLET, 0x1234);
    struct epoll_event events[4];
    for (;;)
        epoll_wait(ep, events, 4, -1); /* the hang-up comes once under EPOLLET; then nothing wakes it */
}

/* Whether process pid is in state (its stat's third field) and, for a sleeper, in a system call by its wchan. */
static int in_state(pid_t pid, char state)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *close_paren = ok ? strrchr(line, ')') : NULL;
    return close_paren && close_paren[2] == state;
}

static void wait_for(pid_t pid, char state)
{
    for (int tries = 0; tries < 1000 && !in_state(pid, state); tries++)
        usleep(10000);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wait-chains chain|deadlock|writers-gone|self-held|eventfd|wakeup\n");
        return 2;
    }

    for (int fd = 3; fd < 1024; fd++)
        close(fd);

    const char *shape = argv[1];
    printf("pid %d\n", (int)getpid());
    if (strcmp(shape, "chain") == 0) {
        int p[2], s[2];
        check(pipe(p), "pipe");
        check(socketpair(AF_UNIX, SOCK_STREAM, 0, s), "socketpair");
        int port, listener = tcp_listener(&port);
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port) };
        int client = check(socket(AF_INET, SOCK_STREAM, 0), "socket");
        check(connect(client, (struct sockaddr *)&addr, sizeof addr), "connect");
        int server = check(accept(listener, NULL, NULL), "accept");
        close(listener);
        pid_t last = spawn("last", (int[]){ server, -1 }, stop_self);
        wait_for(last, 'T');
        pid_t relay = spawn("relay", (int[]){ s[1], client, -1 }, recv_forever);
        pid_t middle = spawn("middle", (int[]){ p[1], s[0], -1 }, recv_forever);
        pid_t reader = spawn("reader", (int[]){ p[0], -1 }, read_forever);
        printf("pipe_read %d\npipe_write %d\nsocket %d\npeer %d\ntcp_client %d\ntcp_server %d\n", p[0], p[1], s[0], s[1], client, server);
        close(p[0]), close(p[1]), close(s[0]), close(s[1]), close(client), close(server);
        wait_for(relay, 'S'), wait_for(middle, 'S'), wait_for(reader, 'S');
    } else if (strcmp(shape, "deadlock") == 0) {
        int a[2], b[2];
        check(pipe(a), "pipe");
        check(pipe(b), "pipe");
        /* first reads a and holds b's write end; second reads b and holds a's write end */
        spawn("first", (int[]){ a[0], b[1], -1 }, read_forever);
        spawn("second", (int[]){ b[0], a[1], -1 }, read_forever);
        printf("a_read %d\na_write %d\nb_read %d\nb_write %d\n", a[0], a[1], b[0], b[1]);
        close(a[0]), close(a[1]), close(b[0]), close(b[1]);
        wait_for(children[0], 'S'), wait_for(children[1], 'S');
    } else if (strcmp(shape, "ring") == 0) {
        int p1[2], p2[2], s[2];
        check(pipe(p1), "pipe");
        check(pipe(p2), "pipe");
        check(socketpair(AF_UNIX, SOCK_STREAM, 0, s), "socketpair");
        spawn("one", (int[]){ p1[0], p2[1], -1 }, read_forever);
        spawn("two", (int[]){ p1[1], s[0], -1 }, recv_forever); /* receives on its second fd */
        spawn("three", (int[]){ p2[0], s[1], -1 }, read_forever);
        printf("p1_read %d\np1_write %d\np2_read %d\np2_write %d\nsocket %d\npeer %d\n", p1[0], p1[1], p2[0], p2[1], s[0], s[1]);
        close(p1[0]), close(p1[1]), close(p2[0]), close(p2[1]), close(s[0]), close(s[1]);
        wait_for(children[0], 'S'), wait_for(children[1], 'S'), wait_for(children[2], 'S');
    } else if (strcmp(shape, "writers-gone") == 0) {
        int p[2];
        check(pipe(p), "pipe");
        pid_t writer = spawn("writer", (int[]){ p[1], -1 }, exit_at_once);
        check(waitpid(writer, NULL, 0), "waitpid");
        child_count = 0;
        close(p[1]);
        pid_t waiter = spawn("waiter", (int[]){ p[0], -1 }, epoll_edge_forever);
        printf("pipe_read %d\n", p[0]);
        close(p[0]);
        wait_for(waiter, 'S');
    } else if (strcmp(shape, "self-held") == 0) {
        int p[2];
        check(pipe(p), "pipe");
        pid_t waiter = spawn("waiter", (int[]){ p[0], p[1], -1 }, read_forever);
        printf("pipe_read %d\npipe_write %d\n", p[0], p[1]);
        close(p[0]), close(p[1]);
        wait_for(waiter, 'S');
    } else if (strcmp(shape, "eventfd") == 0) {
        int efd = check(eventfd(0, 0), "eventfd");
        pid_t signaller = spawn("signaller", (int[]){ efd, -1 }, sleep_forever);
        pid_t waiter = spawn("waiter", (int[]){ efd, -1 }, read_counter_forever);
        printf("eventfd %d\n", efd);
        close(efd);
        wait_for(signaller, 'S'), wait_for(waiter, 'S');
    } else if (strcmp(shape, "wakeup") == 0) {
        int p[2];
        check(pipe(p), "pipe");
        int listener = check(socket(AF_INET, SOCK_STREAM, 0), "socket");
        check(listen(listener, 4), "listen"); /* an ephemeral port on every address */
        pid_t loop = spawn("loop", (int[]){ p[0], p[1], listener, -1 }, event_loop_forever);
        printf("pipe_read %d\npipe_write %d\nlistener %d\n", p[0], p[1], listener);
        close(p[0]), close(p[1]), close(listener);
        wait_for(loop, 'S');
    } else {
        fprintf(stderr, "wait-chains: unknown shape '%s'\n", shape);
        return 2;
    }

    usleep(50000); /* into the call itself, not just asleep on the way */
    printf("ready\n");
    fflush(stdout);
    char buffer[16];
    while (read(0, buffer, sizeof buffer) > 0) {
    }
    for (int i = 0; i < child_count; i++)
        kill(children[i], SIGKILL);
    return 0;
}
