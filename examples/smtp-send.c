/* smtp-send.c - a sendmail-compatible command built on smtp.h.

   The message comes on standard input (or is built from --subject and
   --body), recipients come from the arguments and, with -t, from the To,
   Cc and Bcc headers (the Bcc header is removed from what is sent).
   Settings come from an msmtp file (-C, default ~/.msmtprc; -a ACCOUNT),
   from --url, and from a long option for every configuration key.

   Build: cc -std=c99 -o smtp-send examples/smtp-send.c -lbearssl
   Run:   printf 'Subject: hi\n\nbody\n' | ./smtp-send -C ~/.msmtprc -a work bob@example.com
          ./smtp-send --url 'smtps://me:secret@mail.example.com' -t < message.eml
   Exit codes are sendmail's (sysexits.h). */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { EX_OK_ = 0, EX_USAGE_ = 64, EX_DATAERR_ = 65, EX_NOINPUT_ = 66, EX_NOHOST_ = 68, EX_UNAVAILABLE_ = 69,
       EX_SOFTWARE_ = 70, EX_OSERR_ = 71, EX_IOERR_ = 74, EX_TEMPFAIL_ = 75, EX_PROTOCOL_ = 76, EX_NOPERM_ = 77,
       EX_CONFIG_ = 78 };

static const char *const KEYS[] = { "host", "port", "from", "user", "password", "auth", "tls", "tls_starttls",
    "tls_trust_file", "tls_fingerprint", "tls_cert_file", "tls_key_file", "tls_certcheck", "tls_min_version",
    "tls_max_version", "security", "proxy_host", "proxy_port", "proxy_type", "proxy_user", "proxy_password",
    "source_ip", "domain", "timeout", "greeting_timeout", "connect_timeout", NULL };

static void usage(FILE *f)
{
    fprintf(f,
"usage: smtp-send [options] [recipient ...] < message\n"
"\n"
"Sends the message on standard input, as sendmail and msmtp do.\n"
"\n"
"  -t                 also send to the To, Cc and Bcc headers (Bcc is removed)\n"
"  -f ADDRESS         envelope sender (default: the account's from, else From:)\n"
"  -C FILE            msmtp configuration file (default ~/.msmtprc)\n"
"  -a ACCOUNT         account in that file (default: \"default\")\n"
"  --url URL          smtp://user:pass@host:port or smtps://... instead of a file\n"
"  --subject TEXT     build the message: subject ...\n"
"  --body TEXT        ... and text (when nothing comes on standard input)\n"
"  --attach FILE      ... and attach a file (repeatable)\n"
"  -v                 print the SMTP conversation on standard error (secrets hidden)\n"
"  -h, --help         this text\n"
"\n"
"Every key of the configuration file is an option too, with - or _:\n"
"  --host --port --from --user --password --auth --tls --tls-starttls\n"
"  --tls-trust-file --tls-fingerprint --tls-cert-file --tls-key-file\n"
"  --tls-certcheck --tls-min-version --tls-max-version --security\n"
"  --proxy-host --proxy-port --proxy-type --proxy-user --proxy-password\n"
"  --source-ip --domain --timeout --greeting-timeout --connect-timeout\n"
"e.g. --security=none --host 127.0.0.1 --port 2525\n"
"\n"
"Exit status (sysexits.h): 0 sent; 64 bad usage; 65 bad message; 69 refused\n"
"(5xx); 75 try again later (4xx, timeouts); 77 login refused; 78 bad config.\n");
}

static int exit_code(smtp_result r, const smtp_session *s)
{
    int code = s ? smtp_last_reply(s)->code : 0;
    switch (r) {
    case SMTP_OK: return EX_OK_;
    case SMTP_ERR_CONFIG: return EX_CONFIG_;
    case SMTP_ERR_PARAM: return EX_DATAERR_;
    case SMTP_ERR_AUTH: case SMTP_ERR_AUTH_UNAVAILABLE: return EX_NOPERM_;
    case SMTP_ERR_RESOLVE: return EX_NOHOST_;
    case SMTP_ERR_TIMEOUT: case SMTP_ERR_CONNECT: case SMTP_ERR_IO: case SMTP_ERR_CLOSED: return EX_TEMPFAIL_;
    case SMTP_ERR_PROTOCOL: case SMTP_ERR_TOO_LONG: return EX_PROTOCOL_;
    case SMTP_ERR_NOMEM: return EX_OSERR_;
    case SMTP_ERR_REPLY: case SMTP_PARTIAL: return code / 100 == 4 ? EX_TEMPFAIL_ : EX_UNAVAILABLE_;
    default: return EX_UNAVAILABLE_;
    }
}

static void trace(void *user, smtp_trace_dir dir, const char *p, size_t n)
{
    (void)user;
    if (dir == SMTP_TRACE_BODY) return;
    fprintf(stderr, "%s%.*s\n", dir == SMTP_TRACE_OUT ? "--> " : dir == SMTP_TRACE_IN ? "<-- " : "*** ", (int)n, p);
}

/* A progress bar on a terminal for messages over 1 MiB. */
static unsigned long long total_size;
static int progress(void *user, unsigned long long sent)
{
    int i, w = 40, done = total_size ? (int)(sent * (unsigned long long)w / total_size) : 0;
    (void)user;
    if (done > w) done = w;
    fputc('\r', stderr);
    for (i = 0; i < w; i++) fputc(i < done ? '#' : '.', stderr);
    fprintf(stderr, " %llu KiB", sent / 1024);
    return 0;
}

/* Appends base64 of p[0..n) in 76-column lines (RFC 2045 6.8) to out. */
static size_t b64_lines(const unsigned char *p, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0, col = 0;
    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0u) | (i + 2 < n ? p[i + 2] : 0u);
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
        if ((col += 4) == 76 && i + 3 < n) { out[o++] = '\r'; out[o++] = '\n'; col = 0; }
    }
    out[o++] = '\r'; out[o++] = '\n';
    return o;
}

/* Reads all of f into memory. */
static char *slurp(FILE *f, size_t *n)
{
    size_t cap = 65536, len = 0, k;
    char *p = malloc(cap);
    while (p && (k = fread(p + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (cap - len < 2) { char *q = realloc(p, cap *= 2); if (!q) { free(p); return NULL; } p = q; }
    }
    if (p) p[len] = 0;
    *n = len;
    return p;
}

/* The end of the header block: the offset of the empty line, or 0. */
static size_t header_end(const char *m, size_t n)
{
    size_t i;
    for (i = 0; i + 1 < n; i++) {
        if (m[i] == '\n' && m[i + 1] == '\n') return i + 1;
        if (m[i] == '\n' && m[i + 1] == '\r' && i + 2 < n && m[i + 2] == '\n') return i + 1;
    }
    return 0;
}

/* Adds the addresses of one header value (unfolded) to list: split at commas
   outside quotes and angle brackets; "Name <a@b>" gives a@b. */
static int add_addresses(const char *v, size_t n, char **list, int count, int max)
{
    size_t i = 0;
    while (i < n && count < max) {
        size_t b = i, e;
        int q = 0, angle = 0;
        char *a;
        const char *lt, *gt;
        for (e = i; e < n && (q || angle || v[e] != ','); e++) {
            if (v[e] == '"') q = !q;
            else if (!q && v[e] == '<') angle = 1;
            else if (!q && v[e] == '>') angle = 0;
        }
        i = e + 1;
        while (b < e && strchr(" \t\r\n", v[b])) b++;
        while (e > b && strchr(" \t\r\n", v[e - 1])) e--;
        if (b == e) continue;
        lt = memchr(v + b, '<', e - b);
        gt = lt ? memchr(lt, '>', (size_t)(v + e - lt)) : NULL;
        if (lt && gt) { b = (size_t)(lt + 1 - v); e = (size_t)(gt - v); }
        a = malloc(e - b + 1);
        memcpy(a, v + b, e - b);
        a[e - b] = 0;
        list[count++] = a;
    }
    return count;
}

/* -t: collects To, Cc, Bcc recipients and cuts Bcc lines (with their
   continuations) out of the header block, in place. Returns the new length. */
static size_t take_headers(char *m, size_t n, char **list, int *count, int max, char *from_hdr, size_t fmax)
{
    size_t he = header_end(m, n), i = 0, o = 0;
    if (!he) return n;
    while (i < he) {
        size_t e = i, k;
        char val[8192];
        size_t vl = 0;
        int is_to, is_cc, is_bcc, is_from;
        do { while (e < he && m[e] != '\n') e++; e++; } while (e < he && (m[e] == ' ' || m[e] == '\t'));
        is_to = !strncasecmp(m + i, "To:", 3);
        is_cc = !strncasecmp(m + i, "Cc:", 3);
        is_bcc = !strncasecmp(m + i, "Bcc:", 4);
        is_from = !strncasecmp(m + i, "From:", 5);
        if (is_to || is_cc || is_bcc || is_from) {
            size_t from = i + (is_bcc ? 4 : is_from ? 5 : 3);
            for (k = from; k < e && vl + 1 < sizeof val; k++) if (m[k] != '\r' && m[k] != '\n') val[vl++] = m[k];
            val[vl] = 0;
            if (is_from) { if (!from_hdr[0]) { char *t[1]; if (add_addresses(val, vl, t, 0, 1)) { snprintf(from_hdr, fmax, "%s", t[0]); free(t[0]); } } }
            else *count = add_addresses(val, vl, list, *count, max);
        }
        if (!is_bcc) { memmove(m + o, m + i, e - i); o += e - i; }
        i = e;
    }
    memmove(m + o, m + he, n - he);
    return o + (n - he);
}

int main(int argc, char **argv)
{
    smtp_settings st;
    smtp_session s;
    const char *conf = NULL, *account = NULL, *url = NULL, *sender = NULL, *subject = NULL, *body = NULL;
    const char *attach[16];
    int nattach = 0;
    char *rcpt[1024], from_hdr[512] = "", defconf[1024], *msg = NULL;
    int nrcpt = 0, take = 0, verbose = 0, i, accepted = 0;
    size_t mlen = 0;
    smtp_result r;
    memset(&st, 0, sizeof st);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return EX_OK_; }
        else if (!strcmp(a, "-t")) take = 1;
        else if (!strcmp(a, "-v")) verbose = 1;
        else if (!strcmp(a, "-i") || !strcmp(a, "-oi")) {}                   /* sendmail's: dots are ours to stuff */
        else if ((!strcmp(a, "-f") || !strcmp(a, "-C") || !strcmp(a, "-a")) && i + 1 < argc) {
            if (a[1] == 'f') sender = argv[++i]; else if (a[1] == 'C') conf = argv[++i]; else account = argv[++i];
        } else if (!strncmp(a, "-f", 2) && a[2]) sender = a + 2;
        else if (!strncmp(a, "--", 2) && a[2]) {
            char key[64];
            const char *eq = strchr(a, '='), *val;
            size_t k = eq ? (size_t)(eq - a - 2) : strlen(a + 2), j;
            if (k >= sizeof key) { fprintf(stderr, "smtp-send: unknown option %s\n", a); return EX_USAGE_; }
            memcpy(key, a + 2, k); key[k] = 0;
            for (j = 0; j < k; j++) if (key[j] == '-') key[j] = '_';
            if (eq) val = eq + 1;
            else if (i + 1 < argc) val = argv[++i];
            else { fprintf(stderr, "smtp-send: %s needs a value\n", a); return EX_USAGE_; }
            if (!strcmp(key, "url")) url = val;
            else if (!strcmp(key, "subject")) subject = val;
            else if (!strcmp(key, "body")) body = val;
            else if (!strcmp(key, "attach")) {
                if (nattach == 16) { fprintf(stderr, "smtp-send: at most 16 attachments\n"); return EX_USAGE_; }
                attach[nattach++] = val;
            }
            else {
                int known = 0, j2;
                for (j2 = 0; KEYS[j2]; j2++) if (!strcmp(KEYS[j2], key)) known = 1;
                if (!known) { fprintf(stderr, "smtp-send: unknown option --%s (see --help)\n", key); return EX_USAGE_; }
                /* applied after the file has been loaded, in the second pass below */
            }
        } else if (a[0] == '-' && a[1]) { fprintf(stderr, "smtp-send: unknown option %s (see --help)\n", a); return EX_USAGE_; }
        else if (nrcpt < 1024) rcpt[nrcpt++] = (char *)a;
    }
    /* settings: the URL, or the file (the default file only when it exists) */
    if (url) r = smtp_config_from_url(&st, url);
    else {
        if (!conf && getenv("HOME")) {
            snprintf(defconf, sizeof defconf, "%s/.msmtprc", getenv("HOME"));
            if (access(defconf, F_OK) == 0) conf = defconf;
        }
        r = conf ? smtp_config_load(&st, conf, account) : SMTP_OK;
    }
    if (r) { fprintf(stderr, "smtp-send: %s\n", st.detail); smtp_settings_free(&st); return EX_CONFIG_; }
    if (verbose && st.notes && *st.notes) fputs(st.notes, stderr);
    for (i = 1; i < argc; i++) {   /* the long options override the file */
        const char *a = argv[i], *eq;
        char key[64];
        size_t k, j;
        int known = 0, j2;
        if (!a || strncmp(a, "--", 2) != 0 || !a[2]) continue;
        eq = strchr(a, '=');
        k = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (k >= sizeof key) continue;
        memcpy(key, a + 2, k); key[k] = 0;
        for (j = 0; j < k; j++) if (key[j] == '-') key[j] = '_';
        for (j2 = 0; KEYS[j2]; j2++) if (!strcmp(KEYS[j2], key)) known = 1;
        if (!known) { if (!eq) i++; continue; }
        if (smtp_settings_set(&st, key, eq ? eq + 1 : argv[++i]) != SMTP_OK) {
            fprintf(stderr, "smtp-send: %s\n", st.detail);
            smtp_settings_free(&st);
            return EX_USAGE_;
        }
    }
    if (!st.cfg.host) { fprintf(stderr, "smtp-send: no server: give -C/-a, --url or --host (see --help)\n"); return EX_USAGE_; }
    if (!st.cfg.password && st.passwordeval) {   /* msmtp's passwordeval: the first line of the command's output */
        static char pw[1024];
        FILE *p = popen(st.passwordeval, "r");
        if (!p || !fgets(pw, sizeof pw, p)) { fprintf(stderr, "smtp-send: passwordeval failed\n"); if (p) pclose(p); return EX_CONFIG_; }
        pclose(p);
        pw[strcspn(pw, "\r\n")] = 0;
        st.cfg.password = pw;
    }
    /* the message: standard input, or built from --subject/--body */
    if (subject || body || nattach) {
        size_t cap = 1024 + (subject ? strlen(subject) : 0) + (body ? strlen(body) : 0);
        const char *bnd = "=_smtp-send_boundary_7f3a9c";
        int a;
        char *files[16];
        size_t flen[16];
        for (a = 0; a < nattach; a++) {
            FILE *f = fopen(attach[a], "rb");
            if (!f || !(files[a] = slurp(f, &flen[a]))) { fprintf(stderr, "smtp-send: cannot read %s\n", attach[a]); return EX_NOINPUT_; }
            fclose(f);
            cap += flen[a] * 4 / 3 + flen[a] / 38 + 512 + strlen(attach[a]);
        }
        msg = malloc(cap);
        if (!nattach)
            mlen = (size_t)snprintf(msg, cap, "Subject: %s\n\n%s", subject ? subject : "", body ? body : "");
        else {   /* multipart/mixed (RFC 2046 5.1.3): the text, then each file in base64 */
            mlen = (size_t)snprintf(msg, cap, "Subject: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
                                    "boundary=\"%s\"\r\n\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
                                    subject ? subject : "", bnd, bnd, body ? body : "");
            for (a = 0; a < nattach; a++) {
                const char *base = strrchr(attach[a], '/');
                base = base ? base + 1 : attach[a];
                mlen += (size_t)snprintf(msg + mlen, cap - mlen, "--%s\r\nContent-Type: application/octet-stream\r\n"
                                         "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; "
                                         "filename=\"%s\"\r\n\r\n", bnd, base);
                mlen += b64_lines((unsigned char *)files[a], flen[a], msg + mlen);
                free(files[a]);
            }
            mlen += (size_t)snprintf(msg + mlen, cap - mlen, "--%s--\r\n", bnd);
        }
    } else {
        if (isatty(0)) fprintf(stderr, "smtp-send: reading the message from standard input (end with Ctrl-D)\n");
        msg = slurp(stdin, &mlen);
        if (!msg) { fprintf(stderr, "smtp-send: cannot read standard input\n"); return EX_NOINPUT_; }
    }
    if (take) mlen = take_headers(msg, mlen, rcpt, &nrcpt, 1024, from_hdr, sizeof from_hdr);
    if (!sender) sender = st.cfg.from;
    if (!sender && !from_hdr[0]) {   /* the From header, even without -t */
        char *t[1]; int c = 0; size_t he = header_end(msg, mlen), i2;
        for (i2 = 0; he && i2 < he; i2++)
            if ((i2 == 0 || msg[i2 - 1] == '\n') && !strncasecmp(msg + i2, "From:", 5)) {
                size_t e = i2 + 5;
                while (e < he && msg[e] != '\n') e++;
                c = add_addresses(msg + i2 + 5, e - i2 - 5, t, 0, 1);
                if (c) { snprintf(from_hdr, sizeof from_hdr, "%s", t[0]); free(t[0]); }
                break;
            }
    }
    if (!sender) sender = from_hdr[0] ? from_hdr : NULL;
    if (!sender) { fprintf(stderr, "smtp-send: no sender: use -f, the account's from, or a From header\n"); return EX_USAGE_; }
    if (nrcpt == 0) { fprintf(stderr, "smtp-send: no recipients (give them as arguments, or -t)\n"); return EX_USAGE_; }
    if (verbose) st.cfg.trace = trace;
    total_size = mlen;
    if (mlen > 1024 * 1024 && isatty(2)) st.cfg.progress = progress;
    r = smtp_open(&s, &st.cfg);
    if (r == SMTP_OK) r = smtp_mail_from(&s, sender);
    for (i = 0; r == SMTP_OK && i < nrcpt; i++) {
        smtp_result rr = smtp_rcpt_to(&s, rcpt[i]);
        if (rr == SMTP_OK) accepted++;
        else if (rr == SMTP_ERR_REPLY || rr == SMTP_ERR_PARAM) fprintf(stderr, "smtp-send: %s: %s\n", rcpt[i], smtp_error_detail(&s));
        else r = rr;
    }
    if (r == SMTP_OK && accepted == 0) { r = SMTP_ERR_REPLY; (void)smtp_rset(&s); }
    if (r == SMTP_OK) r = smtp_data_begin(&s);
    if (r == SMTP_OK) r = smtp_data_write(&s, msg, mlen);
    if (r == SMTP_OK) r = smtp_data_end(&s);
    if (st.cfg.progress) fputc('\n', stderr);
    if (r != SMTP_OK) fprintf(stderr, "smtp-send: %s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    else if (accepted < nrcpt) r = SMTP_PARTIAL;
    i = exit_code(r, &s);
    smtp_close(&s);
    smtp_settings_free(&st);
    free(msg);
    return i;
}
