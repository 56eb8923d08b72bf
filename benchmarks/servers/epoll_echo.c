/*
 * Minimal single-threaded epoll echo server: the floor the other servers are measured against.
 *
 * Usage: epoll_echo --port P [--mode line|read] [--limit BYTES] [--lifetime SECONDS] [--idle-threads N]
 *
 * It listens on 127.0.0.1 only and sets TCP_NODELAY on every accepted socket. Each readable event costs
 * one recv() and, when there is something to echo, one send(): in line mode it echoes every complete line
 * it holds (everything up to the last '\n'), in read mode everything it read. Data is read into one shared
 * scratch buffer, so an idle connection holds no buffer at all; only a partial line or unsent output is
 * copied into a per-connection buffer. When the peer does not read, unsent output stays buffered and the
 * connection stops reading until it is flushed, so memory stays bounded (at most --limit plus one read).
 * A line longer than --limit closes its connection. The process exits after --lifetime seconds (default
 * 3600) so that a forgotten server cannot run forever.
 *
 * --idle-threads N (default 0) starts N threads that only sleep, which changes nothing in the echo loop but
 * makes the process multi-threaded, as every .NET, Node or CPython process is. Linux and glibc then take
 * slower paths on every system call: the kernel counts references on the socket's file for each call
 * (fdget/fput), and glibc's recv, send and epoll_wait switch the thread's cancellation state around the call.
 * The server `epoll-c-mt` runs it with one idle thread, to show what that alone costs per message.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE 65536
#define MAX_EVENTS 256

/* buf[off, out_end) is output not yet sent; buf[out_end, len) is a partial line read so far. */
struct conn {
    int fd;
    int writing; /* 1 while output is pending: EPOLLOUT armed, EPOLLIN off */
    char *buf;
    size_t cap, off, out_end, len;
};

static int line_mode = 1;
static size_t limit = 1 << 20;
static int epfd;
static char scratch[READ_SIZE];

static void close_conn(struct conn *c) {
    close(c->fd); /* closing the descriptor also removes it from the epoll set */
    free(c->buf);
    free(c);
}

static int reserve(struct conn *c, size_t need) {
    if (c->cap >= need) return 0;
    size_t cap = c->cap ? c->cap : READ_SIZE;
    while (cap < need) cap *= 2;
    char *p = realloc(c->buf, cap);
    if (!p) return -1;
    c->buf = p;
    c->cap = cap;
    return 0;
}

/* Makes buf hold exactly data[0, n), where data is either the scratch buffer or inside buf. */
static int keep(struct conn *c, const char *data, size_t n) {
    if (n == 0) {
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
        return 0;
    }
    if (data != c->buf) {
        if (data == scratch || c->buf == NULL) {
            if (reserve(c, n) < 0) return -1;
            memcpy(c->buf, data, n);
        } else {
            memmove(c->buf, data, n);
        }
    }
    return 0;
}

static int set_events(struct conn *c, unsigned events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* One recv(), then one send() of what is complete. Returns -1 when the connection must close. */
static int on_readable(struct conn *c) {
    char *data;
    size_t old = c->len;
    ssize_t n;
    if (old == 0) {
        data = scratch;
        n = recv(c->fd, scratch, READ_SIZE, 0);
    } else {
        if (reserve(c, old + READ_SIZE) < 0) return -1;
        data = c->buf;
        n = recv(c->fd, c->buf + old, READ_SIZE, 0);
    }
    if (n == 0) return -1;
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    size_t total = old + (size_t)n;
    size_t out = total;
    if (line_mode) {
        /* The partial line held before this read has no '\n', so only the new bytes are searched. */
        const char *nl = memrchr(data + old, '\n', (size_t)n);
        out = nl ? (size_t)(nl - data) + 1 : 0;
    }
    if (total - out > limit) return -1;
    ssize_t sent = 0;
    if (out > 0) {
        sent = send(c->fd, data, out, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
            sent = 0;
        }
    }
    if ((size_t)sent == out) {
        if (keep(c, data + out, total - out) < 0) return -1;
        c->len = total - out;
        c->off = c->out_end = 0;
        return 0;
    }
    /* The peer is not reading as fast as it sends: hold the rest and stop reading until it is flushed. */
    if (keep(c, data + sent, total - (size_t)sent) < 0) return -1;
    c->off = 0;
    c->out_end = out - (size_t)sent;
    c->len = total - (size_t)sent;
    c->writing = 1;
    return set_events(c, EPOLLOUT);
}

static int on_writable(struct conn *c) {
    ssize_t sent = send(c->fd, c->buf + c->off, c->out_end - c->off, MSG_NOSIGNAL);
    if (sent < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    c->off += (size_t)sent;
    if (c->off < c->out_end) return 0;
    size_t partial = c->len - c->out_end;
    if (keep(c, c->buf + c->out_end, partial) < 0) return -1;
    c->len = partial;
    c->off = c->out_end = 0;
    c->writing = 0;
    return set_events(c, EPOLLIN);
}

static void on_accept(int lfd) {
    for (int i = 0; i < 1024; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; /* EAGAIN: accepted everything pending; other errors: try on the next event */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) close_conn(c);
    }
}

static void *sleep_forever(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

int main(int argc, char **argv) {
    int port = -1;
    unsigned lifetime = 3600;
    int idle_threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mode")) line_mode = strcmp(argv[i + 1], "read") != 0;
        else if (!strcmp(argv[i], "--limit")) limit = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--lifetime")) lifetime = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--idle-threads")) idle_threads = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (port < 0 || port > 65535 || idle_threads < 0 || idle_threads > 64) {
        fprintf(stderr, "usage: epoll_echo --port P [--mode line|read] [--limit BYTES] [--lifetime SECONDS] [--idle-threads N]\n");
        return 2;
    }
    for (int i = 0; i < idle_threads; i++) {
        pthread_t thread;
        int err = pthread_create(&thread, NULL, sleep_forever, NULL);
        if (err) { fprintf(stderr, "pthread_create: %s\n", strerror(err)); return 1; }
        pthread_detach(thread);
    }
    alarm(lifetime); /* SIGALRM's default action ends the process */

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) { perror("socket"); return 1; }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("bind"); return 1; }
    if (listen(lfd, 1024) < 0) { perror("listen"); return 1; }
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) { perror("epoll_create1"); return 1; }
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) { perror("epoll_ctl"); return 1; }

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                on_accept(lfd);
                continue;
            }
            int rc = c->writing ? on_writable(c) : on_readable(c);
            if (rc < 0 || (events[i].events & (EPOLLERR | EPOLLHUP) && !(events[i].events & (EPOLLIN | EPOLLOUT))))
                close_conn(c);
        }
    }
}
