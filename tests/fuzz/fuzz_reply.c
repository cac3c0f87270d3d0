/* fuzz_reply.c - the reply parser (smtp__reply_feed) and the enhanced
   status code parser (smtp__enhanced). The input is a stream of replies
   as a server would send them. Each reply is parsed twice: whole, and in
   two pieces split at an input-derived offset (the reader's way: the
   same buffer, a longer length on the second call); both must give the
   same length, code, line count and the same lines. Every line's text
   goes through smtp__enhanced, whose result must be a prefix of the text
   in the RFC 3463 shape, its class matching the code. */
#include "fuzz.h"

typedef struct seen {
    const char *base;
    uint32_t h;       /* hash of every line reported: offsets, lengths, index */
    int count;
} seen;

static void mix(seen *s, size_t v)
{
    s->h = (s->h ^ (uint32_t)v) * 16777619u;
    s->h = (s->h ^ (uint32_t)(v >> 16 >> 16)) * 16777619u;
}

static void check_enhanced(const char *t, size_t tn, int code)
{
    char st[16];
    size_t k;
    memset(st, 'x', sizeof st);
    k = smtp__enhanced(t, tn, code, st);
    FCHECK(k <= tn);
    if (k) {
        size_t sl = strnlen(st, sizeof st), i, dots = 0;
        FCHECK(sl < sizeof st);
        FCHECK(sl >= 5 && sl <= 9);                /* d.d.d .. d.ddd.ddd */
        FCHECK(k == sl || (k == sl + 1 && t[sl] == ' '));
        FCHECK(memcmp(st, t, sl) == 0);
        FCHECK(st[0] - '0' == code / 100);
        FCHECK(st[0] == '2' || st[0] == '4' || st[0] == '5');
        for (i = 0; i < sl; i++) {
            if (st[i] == '.') dots++;
            else FCHECK(st[i] >= '0' && st[i] <= '9');
        }
        FCHECK(dots == 2);
    }
}

static void on_line(void *user, const char *line, size_t n, const char *text, size_t tn, int index)
{
    seen *s = (seen *)user;
    int code;
    FCHECK(index == s->count);
    FCHECK(n >= 3 && text >= line + 3 && text + tn == line + n);
    FCHECK(line[0] >= '2' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' && line[2] >= '0' && line[2] <= '9');
    FCHECK(!memchr(line, 0, n));
    FCHECK(!memchr(line, '\n', n));
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    mix(s, (size_t)(line - s->base)); mix(s, n); mix(s, (size_t)(text - s->base)); mix(s, tn);
    mix(s, (size_t)index);
    s->count++;
    check_enhanced(text, tn, code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t pos = 0;
    uint32_t rs = fuzz_hash(data, size);
    int replies = 0;

    /* the text parser on its own too, with every code class */
    check_enhanced(buf, size, 250);
    check_enhanced(buf, size, 451);
    check_enhanced(buf, size, 550);

    while (pos <= size && replies < 10000) {
        const char *b = buf + pos;
        size_t len = size - pos, split = fuzz_rng(&rs) % (len + 1);
        smtp__reply_parser a, c;
        seen sa, sc;
        long ra, r1, rc;

        memset(&a, 0, sizeof a); memset(&sa, 0, sizeof sa); sa.base = b; sa.h = 1;
        ra = smtp__reply_feed(&a, b, len, on_line, &sa);

        memset(&c, 0, sizeof c); memset(&sc, 0, sizeof sc); sc.base = b; sc.h = 1;
        r1 = smtp__reply_feed(&c, b, split, on_line, &sc);
        if (r1 == 0) rc = smtp__reply_feed(&c, b, len, on_line, &sc);
        else rc = r1;

        FCHECK(ra == 0 || ra == SMTP_ERR_PROTOCOL || (ra > 0 && (size_t)ra <= len));
        FCHECK(ra == rc);                           /* whole and in two pieces agree */
        if (r1 > 0) FCHECK(r1 == ra);               /* complete in the prefix: the same reply */
        FCHECK(sa.count == sc.count && sa.h == sc.h);
        FCHECK(a.lines == sa.count);
        FCHECK(a.code == c.code && a.lines == c.lines);
        if (ra > 0) {
            FCHECK(b[ra - 1] == '\n');
            FCHECK(a.lines >= 1 && a.code >= 200 && a.code <= 599);
            FCHECK(a.off == (size_t)ra);
            /* needing more can only follow from a missing line end */
        } else if (ra == 0) {
            FCHECK(!memchr(b + a.off, '\n', len - a.off));
        }
        if (ra <= 0) break;
        pos += (size_t)ra;
        replies++;
    }
    return 0;
}
