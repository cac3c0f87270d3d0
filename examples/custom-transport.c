/* custom-transport.c - the session over a byte stream of your own
   (cfg.transport): here standard input and output, so anything that
   carries a stream can carry the mail:
     socat EXEC:./custom-transport TCP:127.0.0.1:2525
     socat EXEC:./custom-transport EXEC:'ssh mailhost nc localhost 25'
   smtp.h connects nothing itself; give it read, write and close.
   Build: cc -std=c99 -o custom-transport examples/custom-transport.c -lbearssl */
#define SMTP_IMPLEMENTATION   /* in one .c file; include smtp.h first there */
#include "../smtp.h"
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

static int wait_for(int fd, short what, int timeout_ms)   /* 1 ready, 0 timed out */
{
    struct pollfd p = { fd, what, 0 };
    return poll(&p, 1, timeout_ms) != 0;
}

static int in_read(void *user, void *buf, size_t n, int timeout_ms)
{
    ssize_t k;
    (void)user;
    if (!wait_for(0, POLLIN, timeout_ms)) return SMTP_ERR_TIMEOUT;
    k = read(0, buf, n);
    return k < 0 ? SMTP_ERR_IO : (int)k;    /* 0: the other end closed */
}

static int out_write(void *user, const void *buf, size_t n, int timeout_ms)
{
    ssize_t k;
    (void)user;
    if (!wait_for(1, POLLOUT, timeout_ms)) return SMTP_ERR_TIMEOUT;
    k = write(1, buf, n);
    return k < 0 ? SMTP_ERR_IO : (int)k;    /* some of it: called again for the rest */
}

int main(void)
{
    smtp_transport stdio_stream = { in_read, out_write, NULL, NULL };
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.transport = &stdio_stream;            /* instead of host and port */
    cfg.host = "localhost";                   /* only names the server (TLS would check it) */
    cfg.security = SMTP_SECURITY_NONE;
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Over a pipe"; msg.text = "It works over any stream.\n";
    smtp_result r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) r = smtp_send(&s, &msg);
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
