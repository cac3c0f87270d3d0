/* fuzz_proxy.c - the proxy reply parsers: smtp__socks4_reply,
   smtp__socks5_two (as SOCKS5's method selection, VER 5, and as RFC 1929's
   status, VER 1), smtp__socks5_reply,
   smtp__http_reply. The first input byte picks the parser, the rest is
   what the proxy sent. Checks: the result is bytes used (never more than
   given), 0 (need more) or SMTP_ERR_PROTOCOL; a result reached on a
   prefix (bytes used, or malformed) stays the same, with the same status,
   on the whole input; the HTTP reason is a NUL-terminated string without
   control characters, and the HTTP reply ends at its empty line. */
#include "fuzz.h"

typedef long (*parser)(const unsigned char *, size_t, smtp__preply *);

static const struct { parser f; int ver; } parsers[] = {
    { smtp__socks4_reply, 0 }, { smtp__socks5_two, 5 }, { smtp__socks5_two, 1 },
    { smtp__socks5_reply, 0 }, { smtp__http_reply, 0 } };

static long run(parser f, int ver, const unsigned char *src, size_t n, smtp__preply *r)
{
    /* exactly n bytes on the heap: a read past what was received is caught */
    unsigned char *b = (unsigned char *)malloc(n ? n : 1);
    long v;
    FCHECK(b != NULL);
    if (n) memcpy(b, src, n);
    memset(r, 0x55, sizeof *r);
    r->reason[0] = 0;
    r->ver = ver;
    v = f(b, n, r);
    free(b);
    FCHECK(v == 0 || v == SMTP_ERR_PROTOCOL || (v > 0 && (size_t)v <= n));
    FCHECK(memchr(r->reason, 0, sizeof r->reason) != NULL);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t which, n, i;
    const unsigned char *b;
    smtp__preply whole, part;
    long rw;
    if (size < 1) return 0;
    which = data[0] % (sizeof parsers / sizeof *parsers);
    b = data + 1; n = size - 1;
    rw = run(parsers[which].f, parsers[which].ver, b, n, &whole);
    if (rw > 0 && parsers[which].f == smtp__http_reply) {
        size_t j;
        FCHECK(rw >= 12 && !memcmp(b, "HTTP/1.", 7));
        FCHECK(whole.status >= 100 && whole.status <= 599);
        FCHECK(b[rw - 1] == '\n');
        FCHECK(b[rw - 2] == '\n' || (b[rw - 2] == '\r' && b[rw - 3] == '\n'));
        for (j = 0; whole.reason[j]; j++) FCHECK((unsigned char)whole.reason[j] >= 0x20);
        /* the empty line is the first one: no earlier blank line */
        for (j = 1; j + 1 < (size_t)rw; j++)
            FCHECK(!(b[j] == '\n' && (b[j - 1] == '\n' || (j >= 2 && b[j - 1] == '\r' && b[j - 2] == '\n'))));
    }
    if (rw > 0 && parsers[which].f != smtp__http_reply) FCHECK(whole.status >= 0 && whole.status <= 255);
    /* every prefix of a short input; of a long one, the first 64, 32 spread
       over the rest, and the two around the end of the reply */
    for (i = 0; i <= n; i++) {
        long rp;
        if (n > 256 && i > 64) {
            size_t step = n / 32 ? n / 32 : 1;
            if (i % step != 0 && i != n && !(rw > 0 && (i == (size_t)rw || i + 1 == (size_t)rw))) continue;
        }
        rp = run(parsers[which].f, parsers[which].ver, b, i, &part);
        if (rp != 0) {
            FCHECK(rp == rw);
            if (rp > 0) {
                FCHECK(part.status == whole.status);
                FCHECK(strcmp(part.reason, whole.reason) == 0);
            }
        }
        if (rw == 0) FCHECK(rp == 0);     /* a prefix of an incomplete reply is incomplete */
    }
    return 0;
}
