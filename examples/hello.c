/* hello.c - send one mail in cleartext; the README's quick start.
   Build: cc -std=c99 -o hello examples/hello.c
   Run:   ./hello HOST PORT FROM TO   (e.g. ./hello 127.0.0.1 2525 a@example.com b@example.com) */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    smtp_result r;
    if (argc != 5) { fprintf(stderr, "usage: %s HOST PORT FROM TO\n", argv[0]); return 2; }
    cfg.host = argv[1]; cfg.port = atoi(argv[2]);
    cfg.security = SMTP_SECURITY_NONE;            /* the default, AUTO, means TLS */
    to[0] = argv[4];
    msg.from = argv[3]; msg.to = to;
    msg.subject = "Hello from smtp.h"; msg.text = "It works.\n";
    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) r = smtp_send(&s, &msg);
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
