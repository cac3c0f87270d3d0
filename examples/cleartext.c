/* cleartext.c - send one message without TLS, to a local test server
   (aiosmtpd, Postfix on loopback, a relay on a trusted network).
   Shows: SMTP_SECURITY_NONE, the extensions the server offered, the
   per-recipient results, the final reply. Never send a password like this:
   with cfg.username set, only CRAM-MD5 is used outside TLS.
   Build: cc -std=c99 -o cleartext examples/cleartext.c -lbearssl
   Run:   ./cleartext HOST PORT FROM TO [TO...]
          (e.g. ./cleartext 127.0.0.1 2525 alice@example.com bob@example.com) */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

#define MAX_TO 8

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_rcpt_result results[MAX_TO];
    smtp_session s;
    const char *to[MAX_TO + 1] = {0};
    smtp_result r;
    int i, n = argc - 4;
    if (argc < 5 || n > MAX_TO) {
        fprintf(stderr, "usage: %s HOST PORT FROM TO [TO...] (at most %d)\n", argv[0], MAX_TO);
        return 2;
    }
    cfg.host = argv[1]; cfg.port = atoi(argv[2]);
    cfg.security = SMTP_SECURITY_NONE;          /* the default, AUTO, never falls back to cleartext */
    for (i = 0; i < n; i++) to[i] = argv[4 + i];
    msg.from = argv[3]; msg.to = to;
    msg.subject = "Cleartext test"; msg.text = "Sent by examples/cleartext.c without TLS.\n";
    msg.results = results; msg.results_cap = MAX_TO;

    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        unsigned ext = smtp_extensions(&s);
        printf("connected to %s:%d in cleartext; EHLO offered%s%s%s%s\n", cfg.host, smtp_port_used(&s),
               ext & SMTP_EXT_STARTTLS ? " STARTTLS" : "", ext & SMTP_EXT_8BITMIME ? " 8BITMIME" : "",
               ext & SMTP_EXT_PIPELINING ? " PIPELINING" : "", ext & SMTP_EXT_AUTH ? " AUTH" : "");
        r = smtp_send(&s, &msg);
        for (i = 0; r >= 0 && i < n; i++)       /* SMTP_OK or SMTP_PARTIAL: results are filled in */
            printf("  %s: %s (%d %s)\n", results[i].address, results[i].accepted ? "accepted" : "refused",
                   results[i].code, results[i].text);
    }
    if (r == SMTP_OK) printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);                             /* QUIT; harmless after any failure */
    return r == SMTP_OK ? 0 : 1;
}
