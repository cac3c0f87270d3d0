/* fuzz_b64.c - base64 as AUTH challenges use it (smtp__unb64, smtp__b64)
   and the PEM reader (smtp__pem_each), which has its own base64 loop.
   Checks: the decoder writes at most 3n/4 bytes (the buffer is exactly
   that, on the heap); what it decodes re-encodes to n characters and
   decodes back to the same bytes; any bytes encode and decode back; the
   PEM reader calls begin/data/end in order, data only inside an object,
   and returns 0 only when every object it began has ended.
   The other encoders of >>codec too: quoted-printable (smtp__qp_encode),
   fed in pieces whose capacity the input picks: every line at most 76
   columns, only printable ASCII, and decoding gives the input back with
   its line ends as CRLF; an RFC 2047 encoded word (smtp__encoded_word):
   at most 39 input bytes, cut at a UTF-8 boundary, at most 75 bytes, and
   its base64 decodes to exactly the bytes taken. */
#include "fuzz.h"

typedef struct pem_count {
    int begins, ends, inside, datas;
    size_t bytes;
} pem_count;

static void pc_begin(void *ctx, const char *name)
{
    pem_count *c = (pem_count *)ctx;
    FCHECK(!c->inside);
    FCHECK(strlen(name) < 80);
    c->begins++; c->inside = 1;
}

static void pc_data(void *ctx, const void *p, size_t n)
{
    pem_count *c = (pem_count *)ctx;
    FCHECK(c->inside);
    FCHECK(n > 0);
    if (n) FCHECK(p != NULL);
    c->datas++; c->bytes += n;
}

static void pc_end(void *ctx)
{
    pem_count *c = (pem_count *)ctx;
    FCHECK(c->inside);
    c->ends++; c->inside = 0;
}

/* Decodes quoted-printable q[0..n) into out; -1 when malformed. */
static long qp_decode(const char *q, size_t n, unsigned char *out)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        if (q[i] != '=') { out[o++] = (unsigned char)q[i]; continue; }
        if (i + 2 < n && q[i + 1] == '\r' && q[i + 2] == '\n') { i += 2; continue; }   /* soft line break */
        if (i + 2 >= n || !strchr("0123456789ABCDEF", q[i + 1]) || !strchr("0123456789ABCDEF", q[i + 2]) ||
            !q[i + 1] || !q[i + 2]) return -1;
        out[o++] = (unsigned char)((strchr("0123456789ABCDEF", q[i + 1]) - "0123456789ABCDEF") * 16 +
                                   (strchr("0123456789ABCDEF", q[i + 2]) - "0123456789ABCDEF"));
        i += 2;
    }
    return (long)o;
}

static void check_qp(const uint8_t *data, size_t size)
{
    size_t i = 0, col = 0, o = 0, k, line = 0, en = 0;
    char *q = (char *)malloc(3 * size + 3 * (size / 20 + 1) + 64);
    unsigned char *back = (unsigned char *)malloc(size * 2 + 1), *want = (unsigned char *)malloc(size * 2 + 1);
    uint32_t rs = fuzz_hash(data, size);
    long bn;
    FCHECK(q && back && want);
    while (i < size) {   /* pieces of 8..71 bytes, each into an exact heap buffer */
        size_t cap = 8 + fuzz_rng(&rs) % 64, before = i, w;
        char *piece = (char *)malloc(cap);
        FCHECK(piece != NULL);
        w = smtp__qp_encode((const char *)data, size, &i, &col, piece, cap);
        FCHECK(w <= cap && i > before);
        memcpy(q + o, piece, w); o += w;
        free(piece);
    }
    for (k = 0; k < o; k++) {
        unsigned char c = (unsigned char)q[k];
        FCHECK(c == '\r' || c == '\n' || c == '\t' || (c >= 32 && c <= 126));
        if (c == '\r') { FCHECK(k + 1 < o && q[k + 1] == '\n'); FCHECK(line <= 76); line = 0; k++; continue; }
        FCHECK(c != '\n');
        line++;
    }
    FCHECK(line <= 76);
    for (k = 0; k < size; k++) {   /* the input with CR, LF and CRLF as CRLF */
        if (data[k] == '\r' || data[k] == '\n') {
            if (data[k] == '\r' && k + 1 < size && data[k + 1] == '\n') k++;
            want[en++] = '\r'; want[en++] = '\n';
        } else want[en++] = data[k];
    }
    bn = qp_decode(q, o, back);
    FCHECK(bn == (long)en);
    FCHECK(en == 0 || memcmp(back, want, en) == 0);
    free(q); free(back); free(want);
}

static void check_encoded_word(const uint8_t *data, size_t size)
{
    char w[75];
    unsigned char back[64];
    size_t used = 0, n;
    long bn;
    if (size == 0) return;
    n = smtp__encoded_word((const char *)data, size, w, &used);
    FCHECK(n <= sizeof w && n >= 12);
    FCHECK(used <= 39 && used <= size);
    FCHECK(used > 0);
    /* never inside a character, unless the input has a run of more continuation bytes than one holds */
    FCHECK(used == size || (data[used] & 0xC0) != 0x80 ||
           (used >= 3 && (data[used - 1] & 0xC0) == 0x80 && (data[used - 2] & 0xC0) == 0x80 &&
            (data[used - 3] & 0xC0) == 0x80));
    FCHECK(!memcmp(w, "=?UTF-8?B?", 10) && w[n - 2] == '?' && w[n - 1] == '=');
    bn = smtp__unb64(w + 10, n - 12, back);
    FCHECK(bn == (long)used);
    FCHECK(used == 0 || memcmp(back, data, used) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    size_t cap = 3 * size / 4;
    unsigned char *out = (unsigned char *)malloc(cap ? cap : 1);
    long r;
    FCHECK(out != NULL);

    r = smtp__unb64(t, size, out);
    FCHECK(r == -1 || (r >= 0 && (size_t)r <= cap));
    if (r >= 0) {
        size_t elen = 4 * (((size_t)r + 2) / 3), e;
        char *enc = (char *)malloc(elen ? elen : 1);
        unsigned char *back = (unsigned char *)malloc(cap ? cap : 1);
        long r2;
        FCHECK(enc && back);
        FCHECK(size % 4 == 0);
        e = smtp__b64(out, (size_t)r, enc);
        FCHECK(e == elen);
        FCHECK(e == size);                         /* the same number of characters */
        r2 = smtp__unb64(enc, e, back);
        FCHECK(r2 == r);
        FCHECK(r == 0 || memcmp(back, out, (size_t)r) == 0);
        free(enc); free(back);
    }
    free(out);

    /* the other way: any bytes survive encode + decode */
    {
        size_t elen = 4 * ((size + 2) / 3), e;
        char *enc = (char *)malloc(elen ? elen : 1);
        unsigned char *back = (unsigned char *)malloc(3 * elen / 4 ? 3 * elen / 4 : 1);
        long r2;
        FCHECK(enc && back);
        e = smtp__b64(data, size, enc);
        FCHECK(e == elen);
        r2 = smtp__unb64(enc, e, back);
        FCHECK(r2 == (long)size);
        FCHECK(size == 0 || memcmp(back, data, size) == 0);
        free(enc); free(back);
    }

    check_qp(data, size);
    check_encoded_word(data, size);

    /* PEM */
    {
        pem_count c;
        smtp__pem_sink k;
        int pr;
        memset(&c, 0, sizeof c);
        k.begin = pc_begin; k.data = pc_data; k.end = pc_end; k.ctx = &c;
        pr = smtp__pem_each(data, size, &k);
        FCHECK(pr == 0 || pr == -1);
        FCHECK(c.ends <= c.begins && c.begins - c.ends <= 1);
        if (pr == 0) FCHECK(c.begins == c.ends && !c.inside);
        FCHECK(c.bytes <= 3 * size / 4);
    }
    return 0;
}
