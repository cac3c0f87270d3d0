/* config-file.c - send one message with the settings of an msmtp
   configuration file (~/.msmtprc): host, port, TLS, login, proxy, from.
   Shows: smtp_config_load with an account, the notes about keys that do
   not concern sending, msmtp's passwordeval (the library never runs
   commands; the program does), the loaded cfg used as is, smtp_settings_free.
   A file that holds a password must be mode 600, as msmtp asks.
   Build: cc -std=c99 -o config-file examples/config-file.c -lbearssl
   Run:   ./config-file FILE TO [ACCOUNT]       (no ACCOUNT: "default")
          e.g. ./config-file ~/.msmtprc bob@example.com work */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* msmtp's passwordeval: the first line a command prints is the password */
static int run_passwordeval(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    int ok;
    if (!p) return 0;
    ok = fgets(out, (int)n, p) != NULL;
    if (pclose(p) != 0) ok = 0;
    out[strcspn(out, "\r\n")] = 0;
    return ok;
}

int main(int argc, char **argv)
{
    smtp_settings st;
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    static char password[512];
    smtp_result r;
    if (argc < 3 || argc > 4) { fprintf(stderr, "usage: %s FILE TO [ACCOUNT]\n", argv[0]); return 2; }
    r = smtp_config_load(&st, argv[1], argc > 3 ? argv[3] : NULL);
    if (r != SMTP_OK) {                         /* file, line and key are in st.detail */
        fprintf(stderr, "%s: %s\n", smtp_result_str(r), st.detail);
        smtp_settings_free(&st);
        return 1;
    }
    if (*st.notes) printf("notes:\n%s", st.notes);
    if (st.passwordeval && (!st.cfg.password || !*st.cfg.password)) {
        if (!run_passwordeval(st.passwordeval, password, sizeof password)) {
            fprintf(stderr, "passwordeval \"%s\" failed\n", st.passwordeval);
            smtp_settings_free(&st);
            return 1;
        }
        st.cfg.password = password;
    }
    printf("account %s: %s port %d, from %s%s%s\n", st.account, st.cfg.host ? st.cfg.host : "(no host)",
           st.cfg.port, st.cfg.from ? st.cfg.from : "(none)",
           st.cfg.username ? ", user " : "", st.cfg.username ? st.cfg.username : "");
    to[0] = argv[2];
    msg.from = NULL;                            /* NULL: the account's from */
    msg.to = to;
    msg.subject = "Hello from a config file"; msg.text = "Sent by examples/config-file.c.\n";

    r = smtp_open(&s, &st.cfg);                 /* st.cfg's strings live in st until smtp_settings_free */
    if (r == SMTP_OK) r = smtp_send(&s, &msg);
    if (r == SMTP_OK) printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    memset(password, 0, sizeof password);
    smtp_settings_free(&st);
    return r == SMTP_OK ? 0 : 1;
}
