#ifndef EPOLL_LOOPS_H
#define EPOLL_LOOPS_H

/* One ADD, MOD, wait (one ready eventfd, timeout 0) and DEL per iteration; nanoseconds per iteration, -1 on error. */
double epoll_ops_loop(int ep, int efd, long iterations);

/* ADD each of fds to ep; nanoseconds per ADD, -1 on error. */
double epoll_add_loop(int ep, const int *fds, long count);

#endif
