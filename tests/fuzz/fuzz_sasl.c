/* fuzz_sasl.c - the SASL payloads (smtp__sasl_plain, _cram, _xoauth2,
   _oauthbearer) with hostile user names, passwords, tokens and hosts, up
   to what the library accepts: every input goes through smtp__init first
   (the checks smtp_open makes: lengths, control characters); only what it
   accepts reaches the builders, as in smtp__auth_mech.
   Input: byte 0 picks the mechanism (0 PLAIN, 1 LOGIN, 2 CRAM-MD5,
   3 XOAUTH2, 4 OAUTHBEARER: low bits mod 5), bytes 1-2 the port (0 = the
   default); then NUL-separated: user name, password (or token), host,
   CRAM-MD5 challenge (missing fields take harmless defaults). Bits 3
   and 4 of byte 0 take the inputs to the limits: the user name (bit 3),
   then the password (bit 4) repeated to the longest length smtp__init
   still accepts (found by asking it, so the bound is the library's).
   1. Each builder into a heap buffer of exactly the caller's size (raw
      in smtp__auth_mech: 9216 + 400; resp for CRAM-MD5: 1024 + 40), so
      ASan sees a write past it: it returns 0 only for a payload that does
      not fit (counted here: with room for a NUL), else the length
      computed here, within the buffer, and the
      payload decodes back to exactly the fields given (PLAIN: \0user\0pass;
      CRAM-MD5: user SP hex HMAC-MD5 computed here with BearSSL's own
      HMAC; XOAUTH2: user=..^Aauth=Bearer ..^A^A; OAUTHBEARER: the gs2
      header n,a=saslname, with ',' as =2C and '=' as =3D, decoded back,
      then host=, port=, auth=Bearer ^A^A).
   2. The real exchange: a scripted server offers the mechanism, the
      session runs AUTH (smtp__auth_mech, its stack buffers under ASan);
      every line the client sends is at most 12288 octets with its CRLF
      (RFC 4954 4), is base64, and decodes to what step 1 built (LOGIN:
      the user name, then the password); the session ends authenticated,
      or, when the payload did not fit, with SMTP_ERR_PARAM before any
      AUTH was sent. */
#include "fuzz.h"
#include <bearssl.h>

#define RAW_CAP (9216 + 400)      /* smtp__auth_mech: unsigned char raw[9216 + 400] */
#define PAYLOAD_CAP SMTP__SASL_MAX    /* smtp__auth_mech: PLAIN, XOAUTH2, OAUTHBEARER payloads: base64 within 12288 */
#define RESP_CAP (1024 + 40)      /* smtp__auth_mech: unsigned char resp[1024 + 40] */

static smtp_session S;

/* ---- a base64 decoder of our own (RFC 4648, strict) ---- */
static int b64v(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* -1 when not base64; else the length decoded into out */
static long unb64(const char *t, size_t n, unsigned char *out)
{
    size_t i, o = 0;
    if (n % 4) return -1;
    for (i = 0; i < n; i += 4) {
        int a = b64v(t[i]), b = b64v(t[i + 1]), c = t[i + 2] == '=' ? -2 : b64v(t[i + 2]),
            d = t[i + 3] == '=' ? -2 : b64v(t[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1) return -1;
        if ((c == -2 || d == -2) && i + 4 != n) return -1;
        if (c == -2 && d != -2) return -1;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        if (c >= 0) out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
        if (d >= 0) out[o++] = (unsigned char)((c & 3) << 6 | d);
    }
    return (long)o;
}

static void b64enc(const unsigned char *p, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        out[o++] = a[p[i] >> 2]; out[o++] = a[(p[i] & 3) << 4 | p[i + 1] >> 4];
        out[o++] = a[(p[i + 1] & 15) << 2 | p[i + 2] >> 6]; out[o++] = a[p[i + 2] & 63];
    }
    if (i < n) {
        out[o++] = a[p[i] >> 2];
        if (i + 1 < n) { out[o++] = a[(p[i] & 3) << 4 | p[i + 1] >> 4]; out[o++] = a[(p[i + 1] & 15) << 2]; }
        else { out[o++] = a[(p[i] & 3) << 4]; out[o++] = '='; }
        out[o++] = '=';
    }
    out[o] = 0;
}

/* ---- the expected payloads, decoded back ---- */

/* p[0..n) starts with lit; advances */
static int eat(const unsigned char **p, const unsigned char *e, const char *lit)
{
    size_t k = strlen(lit);
    if ((size_t)(e - *p) < k || memcmp(*p, lit, k)) return 0;
    *p += k;
    return 1;
}

/* p[0..n) holds str up to the byte stop; advances past str */
static int field(const unsigned char **p, const unsigned char *e, const char *str, unsigned char stop)
{
    const unsigned char *q = *p;
    size_t k = strlen(str);
    while (q < e && *q != stop) q++;
    if (q == e || (size_t)(q - *p) != k || memcmp(*p, str, k)) return 0;
    *p = q;
    return 1;
}

static void check_plain(const unsigned char *b, size_t n, const char *user, const char *pass)
{
    size_t u = strlen(user), p = strlen(pass);
    FCHECK(n == u + p + 2);
    FCHECK(b[0] == 0 && !memcmp(b + 1, user, u) && b[1 + u] == 0 && !memcmp(b + 2 + u, pass, p));
}

static void check_cram(const unsigned char *b, size_t n, const char *user, const char *pass,
                       const unsigned char *ch, size_t cn)
{
    br_hmac_key_context kc;
    br_hmac_context hc;
    unsigned char d[16];
    char hex[33];
    size_t u = strlen(user), i;
    br_hmac_key_init(&kc, &br_md5_vtable, pass, strlen(pass));
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, ch, cn);
    br_hmac_out(&hc, d);
    for (i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    FCHECK(n == u + 33);
    FCHECK(!memcmp(b, user, u) && b[u] == ' ' && !memcmp(b + u + 1, hex, 32));
}

static void check_xoauth2(const unsigned char *b, size_t n, const char *user, const char *tok)
{
    const unsigned char *p = b, *e = b + n;
    FCHECK(eat(&p, e, "user="));
    FCHECK(field(&p, e, user, 1));
    FCHECK(eat(&p, e, "\001auth=Bearer "));
    FCHECK(field(&p, e, tok, 1));
    FCHECK(eat(&p, e, "\001\001") && p == e);
}

/* RFC 7628 3.1 / RFC 5801 5.1: gs2-header "n,a=" saslname "," where
   saslname has ',' as =2C and '=' as =3D and no other '='. */
static void check_oauthbearer(const unsigned char *b, size_t n, const char *user, const char *host, int port,
                              const char *tok)
{
    const unsigned char *p = b, *e = b + n;
    char *name = (char *)malloc(n + 1), pb[16];
    size_t k = 0;
    FCHECK(name != NULL);
    FCHECK(eat(&p, e, "n,a="));
    while (p < e && *p != ',') {
        if (*p == '=') {
            FCHECK(e - p >= 3);
            FCHECK(!memcmp(p, "=2C", 3) || !memcmp(p, "=3D", 3));
            name[k++] = p[2] == 'C' ? ',' : '=';
            p += 3;
        } else name[k++] = (char)*p++;
    }
    name[k] = 0;
    FCHECK(k == strlen(user) && !memcmp(name, user, k));
    free(name);
    FCHECK(eat(&p, e, ",\001host="));
    FCHECK(field(&p, e, host, 1));
    snprintf(pb, sizeof pb, "%d", port);
    FCHECK(eat(&p, e, "\001port="));
    FCHECK(field(&p, e, pb, 1));
    FCHECK(eat(&p, e, "\001auth=Bearer "));
    FCHECK(field(&p, e, tok, 1));
    FCHECK(eat(&p, e, "\001\001") && p == e);
}

/* ---- the scripted server ---- */
static struct {
    char in[16384]; size_t inlen, inpos;   /* what the server still has to say */
    char line[20000]; size_t ll;           /* the client's line being received */
    int mech, step, authed, lines, quit, closed;
    const unsigned char *want; size_t wantn; /* the payload the client must send */
    const char *user, *pass;
    const unsigned char *ch; size_t cn;    /* CRAM-MD5 challenge */
} T;

static const char *const MECH[] = { "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER" };

static void say(const char *s)
{
    size_t n = strlen(s);
    FCHECK(T.inlen + n <= sizeof T.in);
    memcpy(T.in + T.inlen, s, n);
    T.inlen += n;
}

/* the base64 text b64[0..n) decodes to want[0..wn) */
static void expect_b64(const char *b64, size_t n, const unsigned char *want, size_t wn)
{
    unsigned char *d = (unsigned char *)malloc(n + 3);
    long k;
    FCHECK(d != NULL);
    k = unb64(b64, n, d);
    if (k < 0 || (size_t)k != wn || memcmp(d, want, wn)) {
        fprintf(stderr, "sasl: the client sent %zu bytes of base64 that do not decode to the %zu-byte payload\n", n, wn);
        FCHECK(0);
    }
    free(d);
}

static void on_line(const char *l, size_t n)
{
    char cmd[64];
    T.lines++;
    FCHECK(n + 2 <= 12288);                /* RFC 4954 4: 12288 octets with the CRLF */
    if (n >= 4 && !memcmp(l, "EHLO", 4)) {
        snprintf(cmd, sizeof cmd, "250-fuzz.test\r\n250 AUTH %s\r\n", MECH[T.mech]);
        say(cmd);
        return;
    }
    if (n >= 4 && !memcmp(l, "QUIT", 4)) { T.quit = 1; say("221 bye\r\n"); return; }
    switch (T.step) {
    case 0:   /* the AUTH command */
        snprintf(cmd, sizeof cmd, "AUTH %s", MECH[T.mech]);
        FCHECK(n >= strlen(cmd) && !memcmp(l, cmd, strlen(cmd)));
        if (T.mech == 1 || T.mech == 2) {
            FCHECK(n == strlen(cmd));
            if (T.mech == 1) say("334 VXNlcm5hbWU6\r\n");
            else {
                char *c = (char *)malloc(4 * T.cn / 3 + 16);
                FCHECK(c != NULL);
                memcpy(c, "334 ", 4);
                b64enc(T.ch, T.cn, c + 4);
                strcat(c, "\r\n");
                say(c);
                free(c);
            }
            T.step = 1;
            return;
        }
        FCHECK(n > strlen(cmd) + 1 && l[strlen(cmd)] == ' ');
        expect_b64(l + strlen(cmd) + 1, n - strlen(cmd) - 1, T.want, T.wantn);
        T.authed = 1; T.step = 9;
        say("235 2.7.0 ok\r\n");
        return;
    case 1:
        if (T.mech == 1) {
            expect_b64(l, n, (const unsigned char *)T.user, strlen(T.user));
            say("334 UGFzc3dvcmQ6\r\n");
            T.step = 2;
        } else {
            expect_b64(l, n, T.want, T.wantn);
            T.authed = 1; T.step = 9;
            say("235 2.7.0 ok\r\n");
        }
        return;
    case 2:
        expect_b64(l, n, (const unsigned char *)T.pass, strlen(T.pass));
        T.authed = 1; T.step = 9;
        say("235 2.7.0 ok\r\n");
        return;
    default:
        say("502 5.5.2 what\r\n");
    }
}

static int t_write(smtp_session *s, const void *buf, size_t len, long long dl)
{
    const char *p = (const char *)buf;
    size_t i;
    (void)s; (void)dl;
    FCHECK(!T.closed);
    for (i = 0; i < len; i++) {
        FCHECK(T.ll < sizeof T.line);
        T.line[T.ll++] = p[i];
        if (p[i] == '\n') {
            FCHECK(T.ll >= 2 && T.line[T.ll - 2] == '\r');
            on_line(T.line, T.ll - 2);
            T.ll = 0;
        }
    }
    return SMTP_OK;
}

static int t_read(smtp_session *s, void *buf, size_t len, long long dl)
{
    size_t k = T.inlen - T.inpos;
    (void)s; (void)dl;
    FCHECK(!T.closed);
    if (k == 0) return SMTP_ERR_TIMEOUT;
    if (k > len) k = len;
    memcpy(buf, T.in + T.inpos, k);
    T.inpos += k;
    return (int)k;
}

static void t_close(smtp_session *s) { (void)s; T.closed = 1; }

/* f repeated to n bytes, in buf */
static const char *repeat(char *buf, const char *f, size_t n)
{
    size_t k = strlen(f), i;
    for (i = 0; i < n; i++) buf[i] = f[i % k];
    buf[n] = 0;
    return buf;
}

/* The longest repetition of *f (the user name when which is 0, else the
   password) that smtp__init accepts in cfg; *f points into buf then. */
static void grow(smtp_config *cfg, int which, char *buf, size_t cap)
{
    const char *f = which ? cfg->password : cfg->username;
    size_t lo = strlen(f), hi = cap - 1;
    char *src;
    if (!lo) return;
    src = strdup(f);
    FCHECK(src != NULL);
    while (lo < hi) {   /* the largest accepted length in [lo, hi]; lo is accepted */
        size_t mid = lo + (hi - lo + 1) / 2;
        *(which ? &cfg->password : &cfg->username) = repeat(buf, src, mid);
        if (smtp__init(&S, cfg) == SMTP_OK) lo = mid; else hi = mid - 1;
    }
    *(which ? &cfg->password : &cfg->username) = repeat(buf, src, lo);
    free(src);
}

/* NUL-separated fields of the input: the next one, or def when none is left */
static const char *next_field(char **p, char *end, const char *def)
{
    char *f = *p;
    if (f >= end) return def;
    *p = f + strlen(f) + 1;
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned allowed[] = { SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN, SMTP_AUTH_CRAM_MD5, SMTP_AUTH_XOAUTH2,
                                        SMTP_AUTH_OAUTHBEARER };
    char *copy, *p, *end;
    const char *user, *pass, *host, *chal;
    unsigned char *raw, *resp;
    size_t n, cn;
    smtp_config cfg;
    smtp_result r;
    int mech, fits[5] = { 0, 0, 0, 0, 0 };
    static char ubuf[20000], pbuf[20000];
    if (size < 3) return 0;
    mech = data[0] % 5;
    copy = (char *)malloc(size - 3 + 1);
    FCHECK(copy != NULL);
    memcpy(copy, data + 3, size - 3);
    copy[size - 3] = 0;
    p = copy; end = copy + size - 3;
    user = next_field(&p, end, "user@fuzz.test");
    pass = next_field(&p, end, "secret");
    host = next_field(&p, end, "mx.fuzz.test");
    chal = next_field(&p, end, "<1896.697170952@postoffice.example.net>");
    if (!*chal) chal = "<1896.697170952@postoffice.example.net>";   /* a challenge is never empty */
    cn = strlen(chal);

    memset(&cfg, 0, sizeof cfg);
    cfg.host = host;
    cfg.port = data[1] << 8 | data[2];
    cfg.security = SMTP_SECURITY_NONE;
    cfg.username = user;
    cfg.password = pass;
    cfg.allow_cleartext_auth = 1;
    cfg.allowed_auth = allowed[mech];
    r = smtp__init(&S, &cfg);
    if (r == SMTP_OK && (data[0] & 8)) { grow(&cfg, 0, ubuf, sizeof ubuf); user = cfg.username; }
    if (r == SMTP_OK && (data[0] & 16)) { grow(&cfg, 1, pbuf, sizeof pbuf); pass = cfg.password; }
    if (r == SMTP_OK && (data[0] & 24)) r = smtp__init(&S, &cfg);
    if (r != SMTP_OK) {   /* refused by the checks: a parameter error, nothing else */
        FCHECK(r == SMTP_ERR_PARAM);
        free(copy);
        return 0;
    }

    /* 1. the builders, into buffers of the caller's sizes */
    raw = (unsigned char *)malloc(RAW_CAP);
    resp = (unsigned char *)malloc(RESP_CAP);
    FCHECK(raw && resp);
    {
        size_t u = strlen(user), pl = strlen(pass), h = strlen(S.sec.name), esc = 0, want[5];
        char pb[16];
        const char *q;
        for (q = user; *q; q++) if (*q == ',' || *q == '=') esc++;
        want[0] = u + pl + 2;
        want[2] = u + 33;
        want[3] = 5 + u + 13 + pl + 2;
        want[4] = 4 + u + 2 * esc + (size_t)snprintf(pb, sizeof pb, "%d", S.cfg.port) + h + pl +
                  strlen(",\001host=\001port=\001auth=Bearer \001\001");
        for (mech = 0; mech < 5; mech++) {
            if (mech == 1 || (mech == 2 && cn > RAW_CAP)) continue;
            n = mech == 0 ? smtp__sasl_plain(user, pass, raw, PAYLOAD_CAP)
              : mech == 2 ? smtp__sasl_cram(user, pass, (const unsigned char *)chal, cn, resp, RESP_CAP)
              : mech == 3 ? smtp__sasl_xoauth2(user, pass, raw, PAYLOAD_CAP)
              : smtp__sasl_oauthbearer(user, S.sec.name, S.cfg.port, pass, raw, PAYLOAD_CAP);
            if (n == 0) {   /* refused: only a payload that does not fit (with room for a NUL) */
                if (want[mech] + 1 <= (mech == 2 ? RESP_CAP : PAYLOAD_CAP))
                    fprintf(stderr, "sasl: %s refused a %zu-byte payload\n", MECH[mech], want[mech]);
                FCHECK(want[mech] + 1 > (mech == 2 ? RESP_CAP : PAYLOAD_CAP));
                fits[mech] = 0;
                continue;
            }
            fits[mech] = 1;
            FCHECK(n == want[mech] && n <= (mech == 2 ? RESP_CAP : PAYLOAD_CAP));
            if (mech == 0) check_plain(raw, n, user, pass);
            else if (mech == 2) check_cram(resp, n, user, pass, (const unsigned char *)chal, cn);
            else if (mech == 3) check_xoauth2(raw, n, user, pass);
            else check_oauthbearer(raw, n, user, S.sec.name, S.cfg.port, pass);
        }
        mech = data[0] % 5;
        fits[1] = 1;
    }

    /* what the exchange must carry */
    switch (mech) {
    case 0: n = smtp__sasl_plain(user, pass, raw, PAYLOAD_CAP); break;
    case 2: n = cn <= RAW_CAP ? smtp__sasl_cram(user, pass, (const unsigned char *)chal, cn, resp, RESP_CAP) : 0;
            memcpy(raw, resp, n); break;
    case 3: n = smtp__sasl_xoauth2(user, pass, raw, PAYLOAD_CAP); break;
    case 4: n = smtp__sasl_oauthbearer(user, S.sec.name, S.cfg.port, pass, raw, PAYLOAD_CAP); break;
    default: n = 0;
    }

    /* 2. the real exchange (a CRAM-MD5 challenge longer than a reply line
       of RFC 4954's 12288 octets is left out: that is the reply parser's affair) */
    if (mech != 2 || cn <= 9000) {
        memset(&T, 0, sizeof T);
        T.mech = mech; T.user = user; T.pass = pass; T.want = raw; T.wantn = n;
        T.ch = (const unsigned char *)chal; T.cn = cn;
        say("220 fuzz.test ESMTP\r\n");
        S.link.io.read = t_read; S.link.io.write = t_write; S.link.io.close = t_close;
        r = smtp__start(&S);
        if (!fits[mech]) {
            /* a payload that does not fit: a parameter error, no AUTH sent for it */
            FCHECK(r == SMTP_ERR_PARAM && !T.authed && T.step == 0);
        } else {
            if (r != SMTP_OK) fprintf(stderr, "sasl: smtp__start: %s: %s\n", smtp_result_str(r), smtp_error_detail(&S));
            FCHECK(r == SMTP_OK);
            FCHECK(T.authed);
        }
        (void)smtp_close(&S);
        FCHECK(T.closed);
        if (fits[mech]) FCHECK(T.quit);
    }
    free(raw); free(resp); free(copy);
    return 0;
}
