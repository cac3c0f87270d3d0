/* many-sessions.c - one thread, many sessions, one poll(): 100 sessions
   open and send 10 messages each, every session a step at a time
   (smtp_open_start, smtp_send_start, smtp_quit_start, smtp_step) as its
   socket becomes ready. A mail daemon's shape without a
   thread per connection. Start a server, run this:
     /usr/bin/python3 tests/peers/aiosmtpd_server.py --listen 127.0.0.1:2525 --spool /tmp/spool
     ./many-sessions            (or ./many-sessions HOST PORT SESSIONS MESSAGES)
   Build: cc -std=c99 -o many-sessions examples/many-sessions.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX 1000

int main(int argc, char **argv)
{
    static smtp_session ss[MAX];
    static struct pollfd pf[MAX];
    static int sent[MAX], quitting[MAX];
    smtp_config cfg = {0};
    smtp_message msg = {0};
    const char *to[] = { "bob@example.com", NULL };
    int n = argc > 3 ? atoi(argv[3]) : 100, per = argc > 4 ? atoi(argv[4]) : 10, i, live = 0, failed = 0;
    cfg.host = argc > 2 ? argv[1] : "127.0.0.1";
    cfg.port = argc > 2 ? atoi(argv[2]) : 2525;
    cfg.security = SMTP_SECURITY_NONE;
    msg.from = "alice@example.com"; msg.to = to;
    msg.subject = "Hello"; msg.text = "One of many.\n";
    if (n < 1 || n > MAX || per < 1) { fprintf(stderr, "usage: %s HOST PORT SESSIONS(1-%d) MESSAGES\n", argv[0], MAX); return 2; }

    for (i = 0; i < n; i++) {   /* resolves the name; the connect, greeting, EHLO (TLS, AUTH) come in steps */
        if (smtp_open_start(&ss[i], &cfg) != SMTP_OK) { fprintf(stderr, "session %d: %s\n", i, smtp_error_detail(&ss[i])); return 1; }
        pf[i].fd = smtp_fd(&ss[i]); pf[i].events = POLLOUT;   /* smtp_timeout_ms is 0: the first step comes at once */
        sent[i] = -1;                                          /* -1: opening */
        live++;
    }
    while (live > 0) {
        int wait = -1;   /* the earliest deadline among the live sessions */
        for (i = 0; i < n; i++) {
            int t = pf[i].fd >= 0 ? smtp_timeout_ms(&ss[i]) : -1;
            if (t >= 0 && (wait < 0 || t < wait)) wait = t;
        }
        if (poll(pf, (nfds_t)n, wait) < 0) { perror("poll"); return 1; }
        for (i = 0; i < n; i++) {
            smtp_result r;
            if (pf[i].fd < 0 || (!pf[i].revents && smtp_timeout_ms(&ss[i]) != 0)) continue;
            r = smtp_step(&ss[i]);   /* as far as it goes without waiting */
            if (r == SMTP_WANT_READ || r == SMTP_WANT_WRITE) {
                pf[i].fd = smtp_fd(&ss[i]);   /* a new socket when a connect moves to the next address */
                pf[i].events = r == SMTP_WANT_READ ? POLLIN : POLLOUT;
                continue;
            }
            if (quitting[i]) {   /* QUIT answered (or failed): nothing left to wait for */
                smtp_close(&ss[i]);
                pf[i].fd = -1;
                live--;
                continue;
            }
            if (r != SMTP_OK) { fprintf(stderr, "session %d: %s\n", i, smtp_error_detail(&ss[i])); failed++; }
            else sent[i]++;   /* opened (-1 to 0), or one more message sent */
            if (r == SMTP_OK && sent[i] < per && smtp_send_start(&ss[i], &msg) == SMTP_OK) {
                pf[i].events = POLLOUT;   /* the next message: its first step writes */
                continue;
            }
            if (r == SMTP_OK && smtp_quit_start(&ss[i]) == SMTP_OK) { quitting[i] = 1; continue; }   /* QUIT, stepped too */
            smtp_close(&ss[i]);   /* failed: the connection is over already */
            pf[i].fd = -1;
            live--;
        }
    }
    for (i = 0, live = 0; i < n; i++) live += sent[i] > 0 ? sent[i] : 0;
    printf("%d sessions, %d messages sent, %d failed\n", n, live, failed);
    return failed || live != n * per ? 1 : 0;
}
