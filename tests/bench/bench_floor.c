/* bench_floor.c - the floor of the "parallel sessions" section of `make
   bench` (tests/bench/run.sh, issue 17): what smtp.h's wire pattern costs
   with no library at all. SESSIONS connections at once from one thread,
   epoll, PER messages on each; each message is one write of
   "MAIL FROM, RCPT TO, DATA" (PIPELINING within the transaction, as smtp.h
   does by default), the three replies read, then one write of the message
   (a file of CRLF lines, sent as it is, with ".\r\n" after it) and its
   reply: two round trips, two writes, as smtp.h. Nothing is composed,
   checked or encoded; the replies' codes are checked. Linux (epoll).
   It shows how fast any client of this pattern can go against the same
   sink, so how much of a gap to smtp-source is the library's and how much
   the protocol's.

   bench_floor -p PORT [-s SESSIONS] [-n PER] -f FILE
   Exit status 0 when every message got its 250, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { GREETING, EHLO, ENVELOPE, MESSAGE, QUIT };

typedef struct conn {
    int fd, state, want, got, sent;   /* want: replies awaited in this state, got: read so far */
    char buf[4096];
    size_t len;
} conn;

static const char ENV[] = "MAIL FROM:<bench@example.com>\r\nRCPT TO:<sink@example.com>\r\nDATA\r\n";
static char msg[65536];
static size_t msg_len;

static void put(int fd, const char *p, size_t n)
{
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);   /* small writes: the socket buffer takes them whole */
    if (w < 0 || (size_t)w != n) { perror("bench_floor: send"); exit(1); }
}

/* The codes the replies of each state must have, in order. */
static int expected(int state, int k)
{
    static const int env[3] = { 250, 250, 354 };
    switch (state) {
    case GREETING: return 220;
    case ENVELOPE: return env[k];
    case QUIT: return 221;
    default: return 250;
    }
}

int main(int argc, char **argv)
{
    int port = 0, sessions = 100, per = 100, opt, ep, live, total = 0, i;
    const char *file = NULL;
    conn *c;
    struct epoll_event evs[256];
    FILE *f;
    while ((opt = getopt(argc, argv, "p:s:n:f:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 's': sessions = atoi(optarg); break;
        case 'n': per = atoi(optarg); break;
        case 'f': file = optarg; break;
        default: fprintf(stderr, "usage: bench_floor -p PORT [-s SESSIONS] [-n PER] -f FILE\n"); return 2;
        }
    }
    if (port <= 0 || sessions <= 0 || per <= 0 || !file) {
        fprintf(stderr, "usage: bench_floor -p PORT [-s SESSIONS] [-n PER] -f FILE\n");
        return 2;
    }
    if (!(f = fopen(file, "rb"))) { perror(file); return 1; }
    msg_len = fread(msg, 1, sizeof msg - 8, f);
    fclose(f);
    if (msg_len >= 2 && memcmp(msg + msg_len - 2, "\r\n", 2) != 0) { memcpy(msg + msg_len, "\r\n", 2); msg_len += 2; }
    memcpy(msg + msg_len, ".\r\n", 3);
    msg_len += 3;
    if ((ep = epoll_create1(0)) < 0 || !(c = (conn *)calloc((size_t)sessions, sizeof *c))) { perror("bench_floor"); return 1; }
    for (i = 0; i < sessions; i++) {
        struct sockaddr_in a;
        struct epoll_event ev;
        int one = 1;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((unsigned short)port);
        a.sin_addr.s_addr = htonl(0x7f000001);
        if ((c[i].fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || connect(c[i].fd, (struct sockaddr *)&a, sizeof a) < 0) {
            perror("bench_floor: connect");
            return 1;
        }
        (void)setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        (void)fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
        c[i].state = GREETING;
        c[i].want = 1;
        ev.events = EPOLLIN;
        ev.data.u32 = (unsigned)i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev) < 0) { perror("bench_floor: epoll_ctl"); return 1; }
    }
    live = sessions;
    while (live > 0) {
        int n = epoll_wait(ep, evs, (int)(sizeof evs / sizeof evs[0]), 60000), k;
        if (n <= 0) { fprintf(stderr, "bench_floor: %s\n", n ? strerror(errno) : "no reply for 60 s"); return 1; }
        for (k = 0; k < n; k++) {
            conn *t = &c[evs[k].data.u32];
            ssize_t r = recv(t->fd, t->buf + t->len, sizeof t->buf - t->len, 0);
            size_t p, start = 0;
            if (r < 0 && errno == EAGAIN) continue;
            if (r <= 0) { fprintf(stderr, "bench_floor: the server closed a session\n"); return 1; }
            t->len += (size_t)r;
            for (p = 0; p + 1 < t->len; p++) {   /* the last line of each reply: "ddd " or "ddd" */
                if (t->buf[p] != '\r' || t->buf[p + 1] != '\n') continue;
                if (p - start >= 3 && (p - start == 3 || t->buf[start + 3] == ' ')) {
                    if (t->got >= t->want || atoi(t->buf + start) != expected(t->state, t->got)) {
                        fprintf(stderr, "bench_floor: unexpected reply \"%.*s\"\n", (int)(p - start), t->buf + start);
                        return 1;
                    }
                    t->got++;
                }
                start = p + 2;
            }
            memmove(t->buf, t->buf + start, t->len - start);
            t->len -= start;
            if (t->got < t->want) continue;
            t->got = 0;
            switch (t->state) {
            case GREETING:
                put(t->fd, "EHLO bench.example.com\r\n", 24);
                t->state = EHLO; t->want = 1;
                break;
            case MESSAGE:
                t->sent++; total++;
                /* fall through */
            case EHLO:
                if (t->sent == per) { put(t->fd, "QUIT\r\n", 6); t->state = QUIT; t->want = 1; break; }
                put(t->fd, ENV, sizeof ENV - 1);
                t->state = ENVELOPE; t->want = 3;
                break;
            case ENVELOPE:
                put(t->fd, msg, msg_len);
                t->state = MESSAGE; t->want = 1;
                break;
            default:   /* QUIT answered */
                (void)epoll_ctl(ep, EPOLL_CTL_DEL, t->fd, NULL);
                close(t->fd);
                live--;
            }
        }
    }
    printf("floor sessions=%d per=%d n=%d ok=%d\n", sessions, per, sessions * per, total);
    free(c);
    return total == sessions * per ? 0 : 1;
}
