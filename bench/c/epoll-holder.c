/*
 * A process with one epoll instance holding <count> registrations (eventfds, or the ends of pipes with "pipes"),
 * for timing Get-EpollInterest, cat and lsfd on it. Prints "<pid> <epfd>" and waits for a line on stdin.
 *   epoll-holder <count> [eventfd|pipes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: epoll-holder <count> [eventfd|pipes]\n");
        return 2;
    }
    long n = atol(argv[1]);
    int pipes = argc > 2 && strcmp(argv[2], "pipes") == 0;
    int ep = epoll_create1(0);
    for (long i = 0; i < n; i++) {
        int fd;
        if (pipes) {
            int p[2];
            if (pipe(p) < 0) {
                perror("pipe");
                return 1;
            }
            fd = p[0];
            i++; /* the write end is an fd too */
        } else if ((fd = eventfd(0, 0)) < 0) {
            perror("eventfd");
            return 1;
        }
        struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = fd };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            perror("epoll_ctl");
            return 1;
        }
    }
    printf("%d %d\n", getpid(), ep);
    fflush(stdout);
    char line[8];
    (void)!read(0, line, sizeof(line));
    return 0;
}
