/* fuzz.h - shared by the libFuzzer targets in tests/fuzz/: the library
   with its internals, and an invariant check that aborts (libFuzzer then
   saves the input as a crash). Each target is one .c file:
     clang -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_x.c -lbearssl */
#ifndef SMTP_FUZZ_H
#define SMTP_FUZZ_H
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FCHECK(c) do { if (!(c)) { \
        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small deterministic generator for input-derived choices. */
static __attribute__((unused)) uint32_t fuzz_rng(uint32_t *st)
{
    *st = *st * 1103515245u + 12345u;
    return *st >> 8;
}

/* FNV-1a over the bytes, to seed choices from the input itself. */
static __attribute__((unused)) uint32_t fuzz_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    while (n--) { h ^= *p++; h *= 16777619u; }
    return h;
}
#endif
