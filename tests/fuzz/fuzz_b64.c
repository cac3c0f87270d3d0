/* fuzz_b64.c - base64 as AUTH challenges use it (smtp__unb64, smtp__b64)
   and the PEM reader (smtp__pem_each), which has its own base64 loop.
   Checks: the decoder writes at most 3n/4 bytes (the buffer is exactly
   that, on the heap); what it decodes re-encodes to n characters and
   decodes back to the same bytes; any bytes encode and decode back; the
   PEM reader calls begin/data/end in order, data only inside an object,
   and returns 0 only when every object it began has ended. */
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
