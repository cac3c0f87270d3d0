/* cram-md5.c - log in with CRAM-MD5 only, and list what the server offers.
   CRAM-MD5 (RFC 2195) never sends the password, only an HMAC-MD5 of the
   server's challenge, so smtp.h allows it outside TLS too; the server
   must keep the password in clear to check it.
   Shows: cfg.allowed_auth, smtp_supported_auth() as names, a refused
   login (SMTP_ERR_AUTH with the 535 reply) and nothing in common
   (SMTP_ERR_AUTH_UNAVAILABLE).
   Build: cc -std=c99 -o cram-md5 examples/cram-md5.c -lbearssl
   Run:   SMTP_USER=alice SMTP_PASSWORD=secret ./cram-md5 HOST PORT FROM TO
          SMTP_CA_FILE: CA file (else the system CAs). SMTP_SECURITY=none:
          cleartext to a test server (else AUTO: TLS required). */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_mechanisms(const char *what, unsigned mask)
{
    static const struct { unsigned bit; const char *name; } mechs[] = {
        { SMTP_AUTH_PLAIN, "PLAIN" }, { SMTP_AUTH_LOGIN, "LOGIN" }, { SMTP_AUTH_CRAM_MD5, "CRAM-MD5" },
        { SMTP_AUTH_XOAUTH2, "XOAUTH2" }, { SMTP_AUTH_OAUTHBEARER, "OAUTHBEARER" } };
    size_t i;
    printf("%s:", what);
    for (i = 0; i < sizeof mechs / sizeof mechs[0]; i++)
        if (mask & mechs[i].bit) printf(" %s", mechs[i].name);
    printf("%s\n", mask ? "" : " (none)");
}

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    const char *sec = getenv("SMTP_SECURITY");
    smtp_result r;
    if (argc != 5 || !getenv("SMTP_USER") || !getenv("SMTP_PASSWORD")) {
        fprintf(stderr, "usage: SMTP_USER=U SMTP_PASSWORD=P %s HOST PORT FROM TO\n", argv[0]);
        return 2;
    }
    cfg.host = argv[1]; cfg.port = atoi(argv[2]);
    if (sec && !strcmp(sec, "none")) cfg.security = SMTP_SECURITY_NONE;
    cfg.ca_file = getenv("SMTP_CA_FILE");
    cfg.username = getenv("SMTP_USER");
    cfg.password = getenv("SMTP_PASSWORD");
    cfg.allowed_auth = SMTP_AUTH_CRAM_MD5;      /* nothing else, even if offered */
    to[0] = argv[4];
    msg.from = argv[3]; msg.to = to;
    msg.subject = "Hello after CRAM-MD5"; msg.text = "Sent by examples/cram-md5.c.\n";

    r = smtp_open(&s, &cfg);                    /* EHLO, then AUTH CRAM-MD5 */
    print_mechanisms("server offers", smtp_supported_auth(&s));   /* also after a failed login */
    if (r == SMTP_OK) {
        printf("logged in as %s with CRAM-MD5 (%s)\n", cfg.username,
               *smtp_tls_version(&s) ? smtp_tls_version(&s) : "no TLS");
        r = smtp_send(&s, &msg);
    }
    if (r == SMTP_OK) printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else {
        fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
        if (r == SMTP_ERR_AUTH)                 /* the server's own words: 535 5.7.8 ... */
            fprintf(stderr, "server said: %d %s %s\n", smtp_last_reply(&s)->code,
                    smtp_last_reply(&s)->status, smtp_last_reply(&s)->text);
    }
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
